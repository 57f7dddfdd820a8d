"""Tokenizer for SOQL: identifiers, single-quoted strings with backslash escapes, numbers, dates.

String escapes follow Salesforce's "Quoted String Escape Sequences": \\n \\r \\t \\b \\f \\" \\' \\\\
and \\uXXXX (letters case-insensitive: \\N works like \\n); \\% and \\_ are kept escaped in
``Token.raw`` for LIKE patterns and refused elsewhere by the binder. Errors mimic Salesforce's
ANTLR-style lexer messages ("line 1:42 no viable alternative at character '\"'").
"""

from __future__ import annotations

__all__ = ["Token", "TokenKind", "tokenize"]

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from ._errors import SoqlError

TokenKind = Literal[
    "IDENT", "STRING", "NUMBER", "DATE", "DATETIME", "OP", "LPAREN", "RPAREN", "COMMA", "DOT", "COLON", "EOF"
]


@dataclass(frozen=True)
class Token:
    """One lexical token; `value` is the decoded value (str text, ms for DATETIME, ...)."""

    kind: TokenKind
    text: str  # the source text of the token
    pos: int
    value: object = None
    raw: str | None = None  # STRING only: LIKE-pattern form (backslash only as an escape prefix)
    like_escapes: bool = False  # STRING only: contained \\% or \\_ (valid only in LIKE patterns)

    @property
    def upper(self) -> str:
        return self.text.upper()


_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_WS = frozenset(" \t\r\n\f")
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?![0-9A-Za-z_])")
_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})(?![0-9A-Za-z_])"
)
_DATETIME_PREFIX_RE = re.compile(r"\d{4}-\d{2}-\d{2}T")
_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?![0-9A-Za-z_])")
_OPS = ("<=", ">=", "!=", "<>", "=", "<", ">")
_PUNCT: dict[str, TokenKind] = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA", ".": "DOT", ":": "COLON"}


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens ending with EOF; raises SoqlError(MALFORMED_QUERY)."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _WS:
            i += 1
        if i >= n:
            tokens.append(Token("EOF", "<EOF>", n))
            return tokens
        ch = text[i]
        if ch == "'":
            tok = _string(text, i)
        elif ch.isdigit() or (ch in "-." and i + 1 < n and text[i + 1].isdigit()):
            tok = _number_or_date(text, i)
        elif (ch.isascii() and ch.isalpha()) or ch == "_":
            end = i + 1
            while end < n and (text[end].isalnum() or text[end] == "_") and text[end].isascii():
                end += 1
            tok = Token("IDENT", text[i:end], i)
        elif ch in _PUNCT:
            tok = Token(_PUNCT[ch], ch, i)
        else:
            op = next((o for o in _OPS if text.startswith(o, i)), None)
            if op is None:
                raise _no_viable(text, i)
            tok = Token("OP", op, i)
        tokens.append(tok)
        i = tok.pos + len(tok.text)


def _lexer_error(text: str, pos: int, detail: str) -> SoqlError:
    """Salesforce reports lexer errors at ANTLR's 0-based column: the caret lands one character early."""
    col = pos - (text.rfind("\n", 0, pos) + 1)
    row = text.count("\n", 0, pos) + 1
    return _error(text, max(pos - 1, 0), f"line {row}:{col} {detail}")


def _error(text: str, pos: int, detail: str) -> SoqlError:
    return SoqlError("MALFORMED_QUERY", detail, query=text, position=pos, echo_window=False)


def _no_viable(text: str, pos: int) -> SoqlError:
    char = "<EOF>" if pos >= len(text) else text[pos]
    return _lexer_error(text, pos, f"no viable alternative at character '{char}'")


def _string(text: str, start: int) -> Token:
    out: list[str] = []
    raw: list[str] = []
    like_esc = False
    i, n = start + 1, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            return Token("STRING", text[start : i + 1], start, "".join(out), "".join(raw), like_esc)
        if ch != "\\":
            out.append(ch)
            raw.append(ch)
            i += 1
            continue
        if i + 1 >= n:
            break
        esc = text[i + 1]
        low = esc.lower()
        if low in _SIMPLE_ESCAPES and (esc in "\"'\\" or esc.isalpha()):
            out.append(_SIMPLE_ESCAPES[low])
            raw.append(_SIMPLE_ESCAPES[low] if low not in "\\" else "\\\\")
            i += 2
        elif low == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", text[i + 2 : i + 6]):
            decoded = chr(int(text[i + 2 : i + 6], 16))
            out.append(decoded)
            raw.append("\\\\" if decoded == "\\" else decoded)
            i += 6
        elif esc in "%_":
            out.append(esc)  # only meaningful in LIKE; the binder refuses it elsewhere
            raw.append("\\" + esc)
            like_esc = True
            i += 2
        else:
            raise _lexer_error(
                text, i, f"Invalid string literal '{text[start:i + 2]}'. Illegal character sequence "
                f"'\\{esc}' in string literal."
            )
    raise _lexer_error(text, n, "mismatched character '<EOF>' expecting '\''")


def _number_or_date(text: str, i: int) -> Token:
    m = _DATETIME_RE.match(text, i)
    if m:
        return Token("DATETIME", m.group(), i, _datetime_ms(m, text, i))
    if _DATETIME_PREFIX_RE.match(text, i):  # a datetime without (valid) time or zone
        end = i + 11
        while end < len(text) and (text[end].isdigit() or text[end] in ":."):
            end += 1
        raise _no_viable(text, end)
    m = _DATE_RE.match(text, i)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        try:
            datetime(y, mo, d)
        except ValueError:
            raise _error(text, i, f"Invalid date: {m.group()}") from None
        return Token("DATE", m.group(), i, m.group())
    m = _NUMBER_RE.match(text, i)
    if not m:
        end = i + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        raise _no_viable(text, end)
    return Token("NUMBER", m.group(), i, m.group())


def _datetime_ms(m: re.Match[str], text: str, pos: int) -> int:
    y, mo, d, hh, mi, ss = (int(g) for g in m.groups()[:6])
    frac = m.group(7) or ""
    zone = m.group(8)
    try:
        dt = datetime(y, mo, d, hh, mi, ss, tzinfo=UTC)
    except ValueError:
        raise _error(text, pos, f"Invalid datetime: {m.group()}") from None
    ms = int((frac + "000")[:3]) if frac else 0
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if offset >= timedelta(hours=24) or int(digits[2:]) >= 60:
            raise _error(text, pos, f"Invalid datetime: {m.group()}")
        dt = dt - sign * offset
    return int(dt.timestamp()) * 1000 + ms
