"""The one SOQL error type, rendered the way Salesforce renders query errors.

Salesforce answers a bad query with HTTP 400 and ``[{"message": ..., "errorCode": ...}]`` where the
message echoes the query, a caret under the offending token, ``ERROR at Row:1:Column:N`` and the
reason, e.g.::

    \\nSELECT Id FORM Lead\\n          ^\\nERROR at Row:1:Column:11\\nunexpected token: FORM

Error codes used here: MALFORMED_QUERY (syntax and unsupported features), INVALID_FIELD (unknown
column / relationship, or a literal of the wrong type), INVALID_TYPE (unknown sObject),
INVALID_QUERY_FILTER_OPERATOR (an operator the field type does not allow, an invalid Id literal).
"""

from __future__ import annotations

__all__ = ["SoqlError", "ErrorCode"]

from typing import Literal

ErrorCode = Literal["MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE", "INVALID_QUERY_FILTER_OPERATOR"]


class SoqlError(Exception):
    """A query Salesforce would refuse; the emulator returns it as a 400 ``[{message, errorCode}]``."""

    status_code = 400

    def __init__(
        self,
        error_code: str,
        message: str,
        *,
        query: str | None = None,
        position: int | None = None,
        echo_window: bool = True,
    ) -> None:
        self.error_code = error_code
        self.detail = message
        self.query = query
        self.position = position
        self.message = _render(message, query, position, echo_window)
        super().__init__(f"{error_code}: {self.message}")

    @property
    def column(self) -> int | None:
        """1-based column of the offending token on its row, like Salesforce's ``Column:N``."""
        if self.query is None or self.position is None:
            return None
        start = self.query.rfind("\n", 0, self.position) + 1
        return self.position - start + 1

    @property
    def row(self) -> int | None:
        """1-based row of the offending token, like Salesforce's ``Row:N``."""
        if self.query is None or self.position is None:
            return None
        return self.query.count("\n", 0, self.position) + 1

    def to_json(self) -> list[dict[str, str]]:
        """The REST error body: ``[{"message": ..., "errorCode": ...}]``."""
        return [{"message": self.message, "errorCode": self.error_code}]


def _render(detail: str, query: str | None, position: int | None, echo_window: bool) -> str:
    if query is None or position is None:
        return detail
    position = max(0, min(position, len(query)))
    start, end = _window(query, position) if echo_window else _line(query, position)
    col = position - (query.rfind("\n", 0, position) + 1)
    row = query.count("\n", 0, position) + 1
    return f"\n{query[start:end]}\n{' ' * (position - start)}^\nERROR at Row:{row}:Column:{col + 1}\n{detail}"


_WINDOW_TOKENS = 4


def _line(query: str, position: int) -> tuple[int, int]:
    """Start and end offsets of the line holding `position`."""
    end = query.find("\n", position)
    return query.rfind("\n", 0, position) + 1, len(query) if end < 0 else end


def _window(query: str, position: int) -> tuple[int, int]:
    """The echoed slice: the error's line, cut to 4 tokens either side of the offending one.

    Lexer errors (``echo_window=False``) echo the whole line: their query does not tokenize.

    Salesforce echoes long lines that way (a dotted field path counts as one token), e.g.
    "CreatedById,OCE__ActualCap__c,TPI_Product__c,Name,OCE__JobId__c" around TPI_Product__c.
    """
    line_start, line_end = _line(query, position)
    from ._lexer import tokenize  # here, not at the top: the lexer raises SoqlError itself

    try:
        tokens = [t for t in tokenize(query) if t.kind != "EOF"]
    except SoqlError:
        return line_start, line_end
    spans: list[list[int]] = []
    previous = ""
    for tok in tokens:
        if spans and (tok.kind == "DOT" or previous == "DOT"):
            spans[-1][1] = tok.pos + len(tok.text)  # Account.Owner.Email is one token
        else:
            spans.append([tok.pos, tok.pos + len(tok.text)])
        previous = tok.kind
    spans = [s for s in spans if line_start <= s[0] < line_end]
    k = next((i for i, s in enumerate(spans) if s[1] > position), len(spans))
    start = spans[k - _WINDOW_TOKENS][0] if k - _WINDOW_TOKENS > 0 else line_start
    end = spans[k + _WINDOW_TOKENS][1] if k + _WINDOW_TOKENS < len(spans) - 1 else line_end
    return start, end
