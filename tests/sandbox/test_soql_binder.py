"""Binder: names resolved case-insensitively, literals type-checked, Salesforce's error wording."""

from __future__ import annotations

import pytest

from connector.sandbox.salesforce import DEFAULT_CUSTOM_FIELDS
from connector.sandbox.salesforce.ids import make_id
from connector.sandbox.salesforce.soql import (
    BoundQuery, FieldInfo, IndexHint, SoqlError, StaticSchema, bind_query, parse_soql, sample_schema,
)

NOW = 1704153600000  # 2024-01-02T00:00:00Z, a Tuesday
SCHEMA = sample_schema()


def bind(text: str, schema: StaticSchema = SCHEMA) -> BoundQuery:
    return bind_query(parse_soql(text), schema, NOW)


def error(text: str) -> SoqlError:
    with pytest.raises(SoqlError) as err:
        bind(text)
    return err.value


def test_names_are_canonicalised() -> None:
    bq = bind("select id, ACCOUNT.owner.EMAIL, lastname from contact order by account.NAME desc")
    assert bq.sobject == "Contact"
    assert bq.selected == ["Id", "Account.Owner.Email", "LastName"]
    assert [(o.field, o.descending, o.nulls_first) for o in bq.order_by] == [("Account.Name", True, False)]
    assert (bq.limit, bq.offset, bq.is_count) == (None, None, False)


def test_count() -> None:
    bq = bind("SELECT COUNT() FROM Lead WHERE IsDeleted = false LIMIT 5")
    assert bq.is_count and bq.selected == [] and bq.limit == 5


def test_count_with_fields_is_malformed() -> None:
    err = error("SELECT COUNT(), Id FROM Lead")
    assert (err.error_code, err.detail) == ("MALFORMED_QUERY", "COUNT() must be the only element in the SELECT list.")


def test_unknown_object() -> None:
    err = error("SELECT Id FROM Leads")
    assert err.error_code == "INVALID_TYPE"
    assert err.message == (
        "\nSELECT Id FROM Leads\n               ^\nERROR at Row:1:Column:16\n"
        "sObject type 'Leads' is not supported. If you are attempting to use a custom object, be sure to append "
        "the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
    )


def test_unknown_field_message_matches_salesforce() -> None:
    err = error("SELECT Id, Foo FROM Lead")
    assert err.error_code == "INVALID_FIELD"
    assert err.message == (
        "\nSELECT Id, Foo FROM Lead\n           ^\nERROR at Row:1:Column:12\n"
        "No such column 'Foo' on entity 'Lead'. If you are attempting to use a custom field, be sure to append "
        "the '__c' after the custom field name. Please reference your WSDL or the describe call for the "
        "appropriate names."
    )


@pytest.mark.parametrize(
    ("text", "detail_start"),
    [
        ("SELECT Foo.Name FROM Contact", "Didn't understand relationship 'Foo' in field path."),
        ("SELECT Account.Foo FROM Contact", "No such column 'Foo' on entity 'Account'."),
        ("SELECT Account FROM Contact", "No such column 'Account' on entity 'Contact'."),
        ("SELECT Who.Foo FROM Task", "No such column 'Foo' on entity 'Name'."),
        ("SELECT Who.Account.Name FROM Task", "Didn't understand relationship 'Account' in field path."),
        ("SELECT Id FROM Lead WHERE Foo = 'x'", "No such column 'Foo' on entity 'Lead'."),
        ("SELECT Id FROM Lead ORDER BY Foo", "No such column 'Foo' on entity 'Lead'."),
    ],
)
def test_invalid_field_paths(text: str, detail_start: str) -> None:
    err = error(text)
    assert err.error_code == "INVALID_FIELD"
    assert err.detail.startswith(detail_start)


def test_parent_chain_depth() -> None:
    bind("SELECT Account.Owner.Manager.Manager.Manager.Email FROM Contact")  # 5 hops
    err = error("SELECT Account.Owner.Manager.Manager.Manager.Manager.Email FROM Contact")
    assert err.error_code == "MALFORMED_QUERY"


def test_duplicate_field() -> None:
    err = error("SELECT Id, id FROM Lead")
    assert (err.error_code, err.detail) == ("MALFORMED_QUERY", "duplicate field selected: Id")


@pytest.mark.parametrize(
    ("where", "code", "detail"),
    [
        ("IsConverted = 'true'", "INVALID_FIELD",
         "value of filter criterion for field 'IsConverted' must be of type boolean and should not be enclosed in "
         "quotes"),
        ("LastName = 5", "INVALID_FIELD",
         "value of filter criterion for field 'LastName' must be of type string and should be enclosed in quotes"),
        ("Connector_Score__c >= '1'", "INVALID_FIELD",
         "value of filter criterion for field 'Connector_Score__c' must be of type double and should not be "
         "enclosed in quotes"),
        ("NumberOfEmployees = '5'", "INVALID_FIELD",
         "value of filter criterion for field 'NumberOfEmployees' must be of type int and should not be enclosed "
         "in quotes"),
        ("CreatedDate > 2024-01-01", "INVALID_FIELD",
         "value of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in "
         "quotes"),
        ("ConvertedDate > 2024-01-01T00:00:00Z", "INVALID_FIELD",
         "value of filter criterion for field 'ConvertedDate' must be of type date and should not be enclosed in "
         "quotes"),
        ("CreatedDate > '2024-01-01T00:00:00Z'", "INVALID_FIELD",
         "value of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in "
         "quotes"),
        ("Email = TODAY", "INVALID_FIELD",
         "value of filter criterion for field 'Email' must be of type string and should be enclosed in quotes"),
        ("Id = 'abc'", "INVALID_QUERY_FILTER_OPERATOR", "invalid ID field: abc"),
        ("OwnerId IN ('005000000000001', 'nope')", "INVALID_QUERY_FILTER_OPERATOR", "invalid ID field: nope"),
        ("NumberOfEmployees LIKE 5", "INVALID_QUERY_FILTER_OPERATOR", "invalid operator on int field"),
        ("IsConverted > true", "INVALID_QUERY_FILTER_OPERATOR", "invalid operator on boolean field"),
        ("Interests__c LIKE 'a%'", "INVALID_QUERY_FILTER_OPERATOR", "invalid operator on multipicklist field"),
        ("Status INCLUDES ('a')", "INVALID_QUERY_FILTER_OPERATOR",
         "includes or excludes operator only valid on multipicklist field"),
    ],
)
def test_type_errors(where: str, code: str, detail: str) -> None:
    err = error(f"SELECT Id FROM Lead WHERE {where}")
    assert (err.error_code, err.detail) == (code, detail)


def test_type_error_caret_points_at_field() -> None:
    err = error("SELECT Id FROM Lead WHERE IsConverted = 'TRUE'")
    assert "ERROR at Row:1:Column:27" in err.message


def test_multipicklist_cannot_be_sorted() -> None:
    err = error("SELECT Id FROM Lead ORDER BY Interests__c")
    assert (err.error_code, err.detail) == ("INVALID_FIELD", "field 'Interests__c' can not be sorted in a query call")


def test_like_escape_outside_like_is_malformed() -> None:
    assert error(r"SELECT Id FROM Lead WHERE Email = 'a\%'").error_code == "MALFORMED_QUERY"


def test_offset_limit() -> None:
    assert bind("SELECT Id FROM Lead ORDER BY Id LIMIT 10 OFFSET 2000").offset == 2000
    err = error("SELECT Id FROM Lead LIMIT 10 OFFSET 2001")
    assert (err.error_code, err.message) == (
        "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed for apiName Lead is 2000")


def test_sample_schema_types_the_scorer_outputs_as_the_emulators_org() -> None:
    """The sample schema and the emulator's default org agree on every scorer output's describe type."""
    org = {cf.api_name: cf.field_def().type for cf in DEFAULT_CUSTOM_FIELDS if cf.sobject == "Lead"}
    for obj in ("Lead", "Contact"):
        sample = {f.name: f.type for f in SCHEMA.fields(obj) if f.name.startswith("Connector_")}
        assert sample == {n: t for n, t in org.items() if n.startswith("Connector_")}
        assert sample["Connector_MQL_Date__c"] == "datetime" and sample["Connector_Grade__c"] == "picklist"


def test_fields_functions() -> None:
    bq = bind("SELECT FIELDS(STANDARD) FROM Account")
    assert "Name" in bq.selected and "Id" in bq.selected
    bq = bind("SELECT FIELDS(CUSTOM) FROM Lead LIMIT 200")
    assert bq.selected == ["HubSpot_Contact_Id__c", "Connector_Score__c", "Connector_Grade__c", "Connector_Status__c",
                           "Connector_MQL_Date__c", "Connector_Status_Reason__c", "Connector_Score_Reason__c",
                           "Connector_SLA_State__c", "Connector_SLA_Due__c", "Connector_Touches_Before_MQL__c",
                           "Connector_First_Touch__c", "Connector_Last_Touch__c", "Interests__c"]
    bq = bind("SELECT Id, FIELDS(ALL) FROM Lead LIMIT 1")
    assert bq.selected[0] == "Id" and len(bq.selected) == len(set(bq.selected))
    err = error("SELECT FIELDS(ALL) FROM Lead")
    assert err.detail == "The SOQL FIELDS function must have a LIMIT of at most 200"
    err = error("SELECT FIELDS(ALL) FROM Lead LIMIT 201")
    assert err.error_code == "MALFORMED_QUERY"


def test_fields_needs_a_lister() -> None:
    class OnlyLookup:
        def __init__(self) -> None:
            self.inner = sample_schema()

        def object_name(self, name: str) -> str | None:
            return self.inner.object_name(name)

        def field(self, sobject: str, name: str) -> FieldInfo | None:
            return self.inner.field(sobject, name)

        def relationship(self, sobject: str, rel_name: str) -> list[str] | None:
            return self.inner.relationship(sobject, rel_name)

        def reference_field(self, sobject: str, rel_name: str) -> str | None:
            return self.inner.reference_field(sobject, rel_name)

    with pytest.raises(SoqlError, match="FIELDS"):
        bind_query(parse_soql("SELECT FIELDS(STANDARD) FROM Lead"), OnlyLookup(), NOW)
    assert bind_query(parse_soql("SELECT Id FROM Lead"), OnlyLookup(), NOW).selected == ["Id"]


def test_index_hints_in_stored_form() -> None:
    bq = bind(
        "SELECT Id FROM Lead WHERE Email = 'A@X.com' AND LastModifiedDate >= 2024-01-01T00:00:00Z "
        f"AND Id IN ('{make_id('Lead', 1)[:15]}', '{make_id('Lead', 2)}') AND ConvertedDate < 2024-01-01 "
        "AND NumberOfEmployees > 10 AND IsConverted = true AND Owner.Email = 'x' AND Phone != null"
    )
    assert bq.index_hints() == [
        IndexHint("Email", "=", "a@x.com", True, 0),
        IndexHint("LastModifiedDate", ">=", 1704067200000, False, 1),
        IndexHint("Id", "IN", [make_id("Lead", 1), make_id("Lead", 2)], False, 2),
        IndexHint("ConvertedDate", "<", "2024-01-01", False, 3),
        IndexHint("NumberOfEmployees", ">", 10, False, 4),
        IndexHint("IsConverted", "=", True, False, 5),
    ]


def test_index_hints_for_date_literal_ranges() -> None:
    bq = bind("SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS:1 AND ConvertedDate > THIS_MONTH")
    assert bq.index_hints() == [
        IndexHint("CreatedDate", ">=", 1704067200000, False, 0),  # yesterday 00:00 (includes today)
        IndexHint("CreatedDate", "<", 1704153600000 + 86400000, False, 0),
        IndexHint("ConvertedDate", ">=", "2024-02-01", False, 1),
    ]


@pytest.mark.parametrize(
    "where",
    [
        "Email = 'a' OR LastModifiedDate > 2024-01-01T00:00:00Z",
        "NOT Email = 'a'",
        "(Email = 'a' OR Email = 'b') AND Email != 'c'",
        "Email LIKE 'a%'",
        "Email NOT IN ('a')",
        "Email = null",
        "Email IN ('a', null)",
        "IsConverted = false",
        "Email = ''",
    ],
)
def test_no_hints_under_or_not_or_for_non_indexable_terms(where: str) -> None:
    assert bind(f"SELECT Id FROM Lead WHERE {where}").index_hints() == []


def test_id_literals_normalised_to_18() -> None:
    bq = bind("SELECT Id FROM Lead WHERE Id = '00q5G0000000001'")  # wrong case: a different id
    assert bq.index_hints()[0].value == "00q5G0000000001" + bq.index_hints()[0].value[15:]
    assert len(bq.index_hints()[0].value) == 18
