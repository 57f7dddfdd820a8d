"""Parser: the grammar subset, Salesforce's error wording, and refusal of what is not emulated."""

from __future__ import annotations

import pytest

from connector.sandbox.salesforce.soql import (
    And, Comparison, CountItem, FieldRef, FieldsItem, Literal, Not, Or, SoqlError, parse_soql,
)


def _error(text: str) -> SoqlError:
    with pytest.raises(SoqlError) as err:
        parse_soql(text)
    return err.value


def test_full_statement() -> None:
    q = parse_soql(
        "select Id, Account.Owner.Email FROM Contact WHERE (Email = 'a' OR Email LIKE 'b%') "
        "AND (NOT Name IN ('x', null)) ORDER BY Name DESC NULLS FIRST, Id LIMIT 10 OFFSET 5 FOR VIEW"
    )
    assert q.select == (FieldRef(("Id",), 7), FieldRef(("Account", "Owner", "Email"), 11))
    assert q.sobject == "Contact"
    assert isinstance(q.where, And) and len(q.where.items) == 2
    assert isinstance(q.where.items[0], Or)
    assert isinstance(q.where.items[1], Not)
    assert [(o.field, o.descending, o.nulls_first) for o in q.order_by] == [("Name", True, True), ("Id", False, None)]
    assert (q.limit, q.offset, q.for_clause) == (10, 5, ("VIEW",))


def test_keywords_are_case_insensitive() -> None:
    q = parse_soql("sElEcT id fRoM lead wHeRe name = 'x' aNd email != NULL oRdEr bY name aSc nUlLs lAsT lImIt 1")
    assert q.sobject == "lead"
    assert q.order_by[0].effective_nulls_first is False


def test_default_nulls_placement() -> None:
    q = parse_soql("SELECT Id FROM Lead ORDER BY Name, Email DESC")
    assert [o.effective_nulls_first for o in q.order_by] == [True, False]


def test_count_and_fields() -> None:
    assert parse_soql("SELECT COUNT() FROM Lead").is_count
    q = parse_soql("SELECT FIELDS(STANDARD) FROM Lead")
    assert q.select == (FieldsItem("STANDARD", 7),)
    assert isinstance(parse_soql("SELECT count() FROM Lead").select[0], CountItem)


def test_operators() -> None:
    q = parse_soql(
        "SELECT Id FROM Lead WHERE A = 1 AND B != 2 AND C <> 3 AND D < 4 AND E <= 5 AND F > 6 AND G >= 7 "
        "AND H LIKE 'x' AND I IN ('a') AND J NOT IN ('b') AND K INCLUDES ('c;d') AND L EXCLUDES ('e')"
    )
    ops = [c.op for c in q.where.items]  # type: ignore[union-attr]
    assert ops == ["=", "!=", "!=", "<", "<=", ">", ">=", "LIKE", "IN", "NOT IN", "INCLUDES", "EXCLUDES"]


def test_date_literals() -> None:
    q = parse_soql("SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS:30 OR CreatedDate = today")
    first, second = q.where.items  # type: ignore[union-attr]
    assert isinstance(first, Comparison) and isinstance(second, Comparison)
    lit = first.value
    assert isinstance(lit, Literal)
    assert (lit.kind, lit.value, lit.n) == ("date_literal", "LAST_N_DAYS", 30)
    assert second.value.value == "TODAY"  # type: ignore[union-attr]


def test_malformed_keyword_points_at_token() -> None:
    err = _error("SELECT Id FORM Lead")
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message == "\nSELECT Id FORM Lead\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FORM'"
    assert (err.row, err.column) == (1, 11)
    assert err.to_json() == [{"message": err.message, "errorCode": "MALFORMED_QUERY"}]


def test_mixing_and_or_requires_parentheses() -> None:
    err = _error("SELECT Id FROM Lead WHERE A = 1 AND B = 2 OR C = 3")
    assert err.message.endswith("ERROR at Row:1:Column:43\nunexpected token: 'OR'")
    parse_soql("SELECT Id FROM Lead WHERE (A = 1 AND B = 2) OR C = 3")
    parse_soql("SELECT Id FROM Lead WHERE A = 1 AND (B = 2 OR C = 3)")


def test_not_after_and_needs_parentheses() -> None:
    assert _error("SELECT Id FROM Lead WHERE A = 1 AND NOT B = 2").detail == "unexpected token: 'NOT'"
    q = parse_soql("SELECT Id FROM Lead WHERE A = 1 AND (NOT B = 2)")
    assert isinstance(q.where.items[1], Not)  # type: ignore[union-attr]
    assert isinstance(parse_soql("SELECT Id FROM Lead WHERE NOT A = 1").where, Not)


def test_multiline_row_and_column() -> None:
    err = _error("SELECT Id\nFROM Lead\nWHERE Name = 'x' AND Email = 'y' OR Phone = 'z'")
    assert (err.row, err.column) == (3, 34)
    assert err.message.startswith("\nAND Email = 'y' OR Phone = 'z'\n                ^\n")


def test_long_lines_echo_four_tokens_either_side_like_salesforce() -> None:
    # Salesforce sample: "\nCreatedById,OCE__ActualCap__c,TPI_Product__c,Name,OCE__JobId__c\n" + 30 spaces + "^"
    text = "SELECT Id,CreatedById,OCE__ActualCap__c,TPI_Product__c,Name,OCE__JobId__c,Other__c FROM X"
    err = SoqlError("INVALID_FIELD", "No such column", query=text, position=text.index("TPI"))
    assert err.message.split("\n")[1:4] == [
        "CreatedById,OCE__ActualCap__c,TPI_Product__c,Name,OCE__JobId__c", " " * 30 + "^", "ERROR at Row:1:Column:41"]
    # and the Product2 sample: the window starts 4 tokens back and runs to the end of the line
    text = "select Id, ProductCode from Product2 where ProductCode = 3999"
    err = SoqlError("INVALID_FIELD", "x", query=text, position=text.rindex("ProductCode"))
    assert err.message.split("\n")[1:4] == [
        "ProductCode from Product2 where ProductCode = 3999", " " * 32 + "^", "ERROR at Row:1:Column:44"]


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("", "SOQL statements cannot be empty or null"),
        ("   ", "SOQL statements cannot be empty or null"),
        ("SELECT Id FROM", "unexpected token: '<EOF>'"),
        ("SELECT Id FROM Lead WHERE", "unexpected token: '<EOF>'"),
        ("SELECT FROM Lead", "unexpected token: 'FROM'"),
        ("SELECT Id, FROM Lead", "unexpected token: 'FROM'"),
        ("SELECT Id FROM Lead LIMIT x", "unexpected token: 'x'"),
        ("SELECT Id FROM Lead LIMIT -1", "unexpected token: '-1'"),
        ("SELECT Id FROM Lead WHERE Name = ", "unexpected token: '<EOF>'"),
        ("SELECT Id FROM Lead WHERE Name IN ()", "unexpected token: ')'"),
        ("SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS", "unexpected token: '<EOF>'"),
        ("SELECT Id FROM Lead ORDER BY Name NULLS", "unexpected token: '<EOF>'"),
        ("SELECT Id FROM Lead ALL ROWS", "ALL ROWS not allowed in this context"),
        ("SELECT Id FROM Lead extra junk", "unexpected token: 'junk'"),
    ],
)
def test_malformed(text: str, detail: str) -> None:
    err = _error(text)
    assert err.error_code == "MALFORMED_QUERY"
    assert err.detail == detail


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry", "The aggregate function COUNT()"),
        ("SELECT Id FROM Account GROUP BY Id", "GROUP BY"),
        ("SELECT Id FROM Account HAVING Id = 'x'", "HAVING"),
        ("SELECT MAX(AnnualRevenue) FROM Account", "The aggregate function MAX()"),
        ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "A parent-to-child subquery"),
        ("SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)", "A semi-join subquery"),
        ("SELECT TYPEOF What WHEN Account THEN Name END FROM Task", "TYPEOF"),
        ("SELECT Id FROM Account WITH SECURITY_ENFORCED", "WITH"),
        ("SELECT Id FROM Account USING SCOPE Mine", "USING SCOPE"),
        ("SELECT Id FROM Account FOR UPDATE", "FOR UPDATE (an Apex row lock)"),
        ("SELECT Id FROM Account WHERE DAY_ONLY(CreatedDate) = TODAY", "The function DAY_ONLY()"),
        ("SELECT Id FROM Account WHERE Id IN :ids", "An Apex bind variable"),
        ("SELECT Id FROM Account WHERE CloseDate = THIS_FISCAL_YEAR", "The fiscal date literal THIS_FISCAL_YEAR"),
    ],
)
def test_unsupported_features_are_refused_clearly(text: str, what: str) -> None:
    err = _error(text)
    assert err.error_code == "MALFORMED_QUERY"
    assert err.detail == f"{what} is not supported by the sandbox SOQL emulator"


def test_object_alias_is_stripped_from_paths() -> None:
    q = parse_soql("SELECT c.Id, c.Account.Name, Email FROM Contact c WHERE c.Email = 'x' "
                   "AND (NOT c.Account.Name LIKE 'a%') ORDER BY c.LastName DESC")
    assert q.alias == "c"
    assert [i.path for i in q.select if isinstance(i, FieldRef)] == [("Id",), ("Account", "Name"), ("Email",)]
    assert isinstance(q.where, And)
    first, second = q.where.items
    assert isinstance(first, Comparison) and first.field.path == ("Email",)
    assert isinstance(second, Not) and isinstance(second.item, Comparison)
    assert second.item.field.path == ("Account", "Name")
    assert q.order_by[0].field == "LastName"


def test_for_reference_tolerated() -> None:
    assert parse_soql("SELECT Id FROM Lead FOR REFERENCE").for_clause == ("REFERENCE",)
