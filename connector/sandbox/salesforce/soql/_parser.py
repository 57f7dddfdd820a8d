"""Recursive-descent parser for the supported SOQL subset; pure syntax, no schema.

Grammar (keywords case-insensitive)::

    query      := SELECT items FROM name [alias] [WHERE cond] [ORDER BY order (',' order)*]
                  [LIMIT int] [OFFSET int] [FOR (VIEW | REFERENCE)] EOF
    items      := item (',' item)*      item := COUNT '(' ')' | FIELDS '(' ALL|STANDARD|CUSTOM ')' | path
    path       := name ('.' name)*
    cond       := term ((AND term)+ | (OR term)+)?       -- mixing AND/OR needs parentheses
    term       := NOT atom | atom        atom := '(' cond ')' | compare
    compare    := path (= | != | <> | < | <= | > | >= | LIKE) value
                | path [NOT] IN '(' value (',' value)* ')' | path (INCLUDES|EXCLUDES) '(' string, ... ')'
    value      := string | number | date | datetime | TRUE | FALSE | NULL | DATE_LITERAL [':' int]
    order      := path [ASC | DESC] [NULLS (FIRST | LAST)]

Refused with MALFORMED_QUERY: GROUP BY, HAVING, aggregates other than COUNT(), functions,
subqueries, TYPEOF, WITH, USING SCOPE, FOR UPDATE, ALL ROWS, bind variables. An object alias
(``FROM Contact c``) is accepted and stripped from paths (``c.Account.Name`` -> ``Account.Name``).
"""

from __future__ import annotations

__all__ = ["parse_soql", "DATE_LITERALS", "DATE_LITERALS_N"]

from ._ast import (
    And, CompareOp, Comparison, CountItem, Expr, FieldRef, FieldsItem, Literal, Not, Or, OrderItem, Query,
    SelectItem,
)
from ._errors import SoqlError
from ._lexer import Token, tokenize

DATE_LITERALS = frozenset({
    "YESTERDAY", "TODAY", "TOMORROW", "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK", "LAST_MONTH", "THIS_MONTH",
    "NEXT_MONTH", "LAST_90_DAYS", "NEXT_90_DAYS", "THIS_QUARTER", "LAST_QUARTER", "NEXT_QUARTER", "THIS_YEAR",
    "LAST_YEAR", "NEXT_YEAR",
})
DATE_LITERALS_N = frozenset({
    "LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "LAST_N_WEEKS", "NEXT_N_WEEKS", "N_WEEKS_AGO", "LAST_N_MONTHS",
    "NEXT_N_MONTHS", "N_MONTHS_AGO", "LAST_N_QUARTERS", "NEXT_N_QUARTERS", "N_QUARTERS_AGO", "LAST_N_YEARS",
    "NEXT_N_YEARS", "N_YEARS_AGO",
})
_UNSUPPORTED_CLAUSES = {
    "GROUP": "GROUP BY", "HAVING": "HAVING", "WITH": "WITH", "USING": "USING SCOPE", "TYPEOF": "TYPEOF",
}
_CLAUSE_WORDS = frozenset({"FROM", "WHERE", "ORDER", "LIMIT", "OFFSET", "FOR", "ALL", "GROUP", "HAVING", "WITH",
                           "USING", "UPDATE", "AND", "OR", "NOT", "SELECT"})
_CMP_OPS = frozenset({"=", "!=", "<>", "<", "<=", ">", ">="})
_MAX_INT = 2**31 - 1


def parse_soql(text: str) -> Query:
    """Parse `text` into a Query; raises SoqlError(MALFORMED_QUERY) with Salesforce's caret message."""
    if not isinstance(text, str) or not text.strip():
        raise SoqlError("MALFORMED_QUERY", "SOQL statements cannot be empty or null")
    return _Parser(text).query()


class _Parser:
    """One-shot parser over the token list of one statement."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    # -- token helpers -------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def at(self, kind: str) -> bool:
        """Whether the current token is of `kind` (a method, so type checkers do not narrow it)."""
        return self.tok.kind == kind

    def advance(self) -> Token:
        tok = self.toks[self.i]
        if tok.kind != "EOF":
            self.i += 1
        return tok

    def is_kw(self, *words: str, tok: Token | None = None) -> bool:
        t = tok or self.tok
        return t.kind == "IDENT" and t.upper in words

    def expect_kw(self, word: str) -> Token:
        if not self.is_kw(word):
            raise self.unexpected()
        return self.advance()

    def expect(self, kind: str) -> Token:
        if self.tok.kind != kind:
            raise self.unexpected()
        return self.advance()

    def unexpected(self, tok: Token | None = None) -> SoqlError:
        t = tok or self.tok
        return SoqlError("MALFORMED_QUERY", f"unexpected token: '{t.text}'", query=self.text, position=t.pos)

    def unsupported(self, what: str, tok: Token | None = None) -> SoqlError:
        t = tok or self.tok
        return SoqlError(
            "MALFORMED_QUERY",
            f"{what} is not supported by the sandbox SOQL emulator",
            query=self.text,
            position=t.pos,
        )

    # -- statement -----------------------------------------------------------------------------
    def query(self) -> Query:
        self.expect_kw("SELECT")
        items = self.select_items()
        self.expect_kw("FROM")
        obj = self.expect("IDENT")
        if obj.upper in _CLAUSE_WORDS:
            raise self.unexpected(obj)
        self.check_unsupported()
        alias: str | None = None
        if self.at("IDENT") and self.tok.upper not in _CLAUSE_WORDS:
            alias = self.advance().text  # SELECT c.Id FROM Contact c
            self.check_unsupported()
        if self.at("COMMA"):
            raise self.unsupported("A relationship query in FROM")
        where = None
        if self.is_kw("WHERE"):
            self.advance()
            where = self.condition()
        self.check_unsupported()
        order: list[OrderItem] = []
        if self.is_kw("ORDER"):
            self.advance()
            self.expect_kw("BY")
            order.append(self.order_item())
            while self.at("COMMA"):
                self.advance()
                order.append(self.order_item())
        limit = offset = None
        if self.is_kw("LIMIT"):
            self.advance()
            limit = self.integer()
        if self.is_kw("OFFSET"):
            self.advance()
            offset = self.integer()
        for_clause: list[str] = []
        if self.is_kw("FOR"):
            self.advance()
            if self.is_kw("UPDATE"):
                raise self.unsupported("FOR UPDATE (an Apex row lock)")
            if not self.is_kw("VIEW", "REFERENCE"):
                raise self.unexpected()
            for_clause.append(self.advance().upper)
            while self.at("COMMA"):
                self.advance()
                if not self.is_kw("VIEW", "REFERENCE"):
                    raise self.unexpected()
                for_clause.append(self.advance().upper)
        if self.is_kw("UPDATE"):
            raise self.unsupported("UPDATE TRACKING / UPDATE VIEWSTAT")
        if self.is_kw("ALL") and self.is_kw("ROWS", tok=self.peek()):
            raise SoqlError("MALFORMED_QUERY", "ALL ROWS not allowed in this context", query=self.text,
                            position=self.tok.pos)
        self.check_unsupported()
        if not self.at("EOF"):
            raise self.unexpected()
        if alias is not None:
            strip = _AliasStripper(alias)
            items = [strip.item(i) for i in items]
            where = None if where is None else strip.expr(where)
            order = [strip.order(o) for o in order]
        return Query(
            text=self.text, select=tuple(items), sobject=obj.text, sobject_pos=obj.pos, where=where,
            order_by=tuple(order), limit=limit, offset=offset, for_clause=tuple(for_clause), alias=alias,
        )

    def check_unsupported(self) -> None:
        if self.at("IDENT") and self.tok.upper in _UNSUPPORTED_CLAUSES:
            if self.tok.upper == "GROUP" and not self.is_kw("BY", tok=self.peek()):
                raise self.unexpected()
            raise self.unsupported(_UNSUPPORTED_CLAUSES[self.tok.upper])

    def integer(self) -> int:
        tok = self.tok
        if tok.kind != "NUMBER" or not tok.text.isdigit():
            raise self.unexpected()
        self.advance()
        value = int(tok.text)
        if value > _MAX_INT:
            raise SoqlError("MALFORMED_QUERY", f"For input string: \"{tok.text}\"", query=self.text, position=tok.pos)
        return value

    # -- SELECT list ---------------------------------------------------------------------------
    def select_items(self) -> list[SelectItem]:
        items = [self.select_item()]
        while self.at("COMMA"):
            self.advance()
            items.append(self.select_item())
        return items

    def select_item(self) -> SelectItem:
        tok = self.tok
        if tok.kind == "LPAREN":
            raise self.unsupported("A parent-to-child subquery")
        if tok.kind != "IDENT" or tok.upper in ("FROM", "SELECT"):
            raise self.unexpected()
        if tok.upper == "TYPEOF":
            raise self.unsupported("TYPEOF")
        if self.peek().kind == "LPAREN":
            name = tok.upper
            self.advance()
            self.advance()
            if name == "COUNT" and self.at("RPAREN"):
                self.advance()
                return CountItem(tok.pos)
            if name == "FIELDS" and self.is_kw("ALL", "STANDARD", "CUSTOM") and self.peek().kind == "RPAREN":
                kind = self.advance().upper
                self.advance()
                return FieldsItem(kind, tok.pos)  # type: ignore[arg-type]
            if name in ("COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"):
                raise self.unsupported(f"The aggregate function {name}()", tok)
            raise self.unsupported(f"The function {tok.text}()", tok)
        ref = self.path()
        if self.at("IDENT") and self.tok.upper != "FROM":
            raise self.unexpected()  # e.g. "SELECT Id FORM Lead" -> unexpected token: 'FORM'
        return ref

    def path(self) -> FieldRef:
        first = self.expect("IDENT")
        parts = [first.text]
        while self.at("DOT"):
            self.advance()
            parts.append(self.expect("IDENT").text)
        return FieldRef(tuple(parts), first.pos)

    # -- WHERE ---------------------------------------------------------------------------------
    def condition(self) -> Expr:
        first = self.term()
        if not self.is_kw("AND", "OR"):
            return first
        joiner = self.tok.upper
        items = [first]
        while self.is_kw("AND", "OR"):
            if self.tok.upper != joiner:
                raise self.unexpected()  # Salesforce: AND and OR may not be mixed without parentheses
            self.advance()
            if self.is_kw("NOT"):
                raise self.unexpected()  # Salesforce wants "(NOT x)" after AND/OR
            items.append(self.atom())
        return And(tuple(items)) if joiner == "AND" else Or(tuple(items))

    def term(self) -> Expr:
        if self.is_kw("NOT"):
            self.advance()
            return Not(self.atom())
        return self.atom()

    def atom(self) -> Expr:
        if self.at("LPAREN"):
            self.advance()
            if self.is_kw("SELECT"):
                raise self.unsupported("A subquery")
            inner = self.condition()
            self.expect("RPAREN")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        tok = self.tok
        if tok.kind != "IDENT" or tok.upper in _CLAUSE_WORDS:
            raise self.unexpected()
        if self.peek().kind == "LPAREN":
            raise self.unsupported(f"The function {tok.text}()")
        field = self.path()
        op_tok = self.tok
        op: CompareOp
        if op_tok.kind == "OP" and op_tok.text in _CMP_OPS:
            self.advance()
            op = "!=" if op_tok.text == "<>" else op_tok.text  # type: ignore[assignment]
            return Comparison(field, op, self.value(), op_tok.pos)
        if self.is_kw("LIKE"):
            self.advance()
            return Comparison(field, "LIKE", self.value(), op_tok.pos)
        if self.is_kw("NOT") and self.is_kw("IN", tok=self.peek()):
            self.advance()
            self.advance()
            return Comparison(field, "NOT IN", self.value_list(), op_tok.pos)
        if self.is_kw("IN", "INCLUDES", "EXCLUDES"):
            self.advance()
            return Comparison(field, op_tok.upper, self.value_list(), op_tok.pos)  # type: ignore[arg-type]
        raise self.unexpected()

    def value_list(self) -> tuple[Literal, ...]:
        if self.at("COLON"):
            raise self.unsupported("An Apex bind variable")
        self.expect("LPAREN")
        if self.is_kw("SELECT"):
            raise self.unsupported("A semi-join subquery")
        values = [self.value()]
        while self.at("COMMA"):
            self.advance()
            values.append(self.value())
        self.expect("RPAREN")
        return tuple(values)

    def value(self) -> Literal:
        tok = self.tok
        if tok.kind == "STRING":
            self.advance()
            return Literal("string", tok.value, tok.pos, raw=tok.raw, like_escapes=tok.like_escapes)
        if tok.kind == "NUMBER":
            self.advance()
            return Literal("number", tok.text, tok.pos)
        if tok.kind == "DATE":
            self.advance()
            return Literal("date", tok.value, tok.pos)
        if tok.kind == "DATETIME":
            self.advance()
            return Literal("datetime", tok.value, tok.pos)
        if tok.kind == "COLON":
            raise self.unsupported("An Apex bind variable")
        if tok.kind == "IDENT":
            word = tok.upper
            if word in ("TRUE", "FALSE"):
                self.advance()
                return Literal("boolean", word == "TRUE", tok.pos)
            if word == "NULL":
                self.advance()
                return Literal("null", None, tok.pos)
            if word in DATE_LITERALS:
                self.advance()
                return Literal("date_literal", word, tok.pos)
            if word in DATE_LITERALS_N:
                self.advance()
                if not self.at("COLON"):
                    raise self.unexpected()
                self.advance()
                n_tok = self.tok
                if n_tok.kind != "NUMBER" or not n_tok.text.isdigit():
                    raise self.unexpected()
                self.advance()
                return Literal("date_literal", word, tok.pos, n=int(n_tok.text))
            if word.startswith(("THIS_FISCAL", "LAST_FISCAL", "NEXT_FISCAL", "LAST_N_FISCAL", "NEXT_N_FISCAL",
                                "N_FISCAL")):
                raise self.unsupported(f"The fiscal date literal {tok.text}")
        raise self.unexpected()

    # -- ORDER BY ------------------------------------------------------------------------------
    def order_item(self) -> OrderItem:
        tok = self.tok
        if tok.kind == "IDENT" and self.peek().kind == "LPAREN":
            raise self.unsupported(f"The function {tok.text}() in ORDER BY")
        if tok.kind != "IDENT" or tok.upper in _CLAUSE_WORDS:
            raise self.unexpected()
        ref = self.path()
        descending = False
        if self.is_kw("ASC", "DESC"):
            descending = self.advance().upper == "DESC"
        nulls_first: bool | None = None
        if self.is_kw("NULLS"):
            self.advance()
            if not self.is_kw("FIRST", "LAST"):
                raise self.unexpected()
            nulls_first = self.advance().upper == "FIRST"
        return OrderItem(ref.dotted, descending, nulls_first, ref.pos)


class _AliasStripper:
    """Rewrites ``c.Account.Name`` to ``Account.Name`` for ``FROM Contact c``, so later stages see plain paths."""

    def __init__(self, alias: str) -> None:
        self.alias = alias.lower()

    def ref(self, ref: FieldRef) -> FieldRef:
        if len(ref.path) > 1 and ref.path[0].lower() == self.alias:
            return FieldRef(ref.path[1:], ref.pos + len(ref.path[0]) + 1)
        return ref

    def item(self, item: SelectItem) -> SelectItem:
        return self.ref(item) if isinstance(item, FieldRef) else item

    def expr(self, expr: Expr) -> Expr:
        if isinstance(expr, Comparison):
            return Comparison(self.ref(expr.field), expr.op, expr.value, expr.pos)
        if isinstance(expr, Not):
            return Not(self.expr(expr.item))
        items = tuple(self.expr(e) for e in expr.items)
        return And(items) if isinstance(expr, And) else Or(items)

    def order(self, item: OrderItem) -> OrderItem:
        ref = self.ref(FieldRef(tuple(item.field.split(".")), item.pos))
        return OrderItem(ref.dotted, item.descending, item.nulls_first, ref.pos)
