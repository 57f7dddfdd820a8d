"""A value the connector cannot carry, in its parts and with its fix (pure)."""

from __future__ import annotations

from connector.reconcile.errors import TransformError
from connector.reconcile.issues import describe, fix_for
from connector.reconcile.records import Issue


def _issue(field: str, unified: str, exc: Exception | str, value: object) -> Issue:
    return Issue("salesforce", "00Q1", field, value, f"{unified}: {exc}")


def test_a_transform_refusal_is_split_and_its_value_kept_out_of_the_reason() -> None:
    exc = TransformError("map", "Nurture: later", "not in the to_hubspot value map and no default_to_hubspot")
    d = describe(_issue("Status", "lead_status", exc, "Nurture: later"))
    assert (d.unified_field, d.kind) == ("lead_status", "map")
    assert d.reason == "not in the to_hubspot value map and no default_to_hubspot" and "Nurture" not in d.reason
    phone = describe(_issue("Phone", "phone", TransformError("phone", "+1 555 ext", "not a possible phone number "
                                                            "(default region US)"), "+1 555 ext"))
    assert (phone.kind, phone.reason) == ("phone", "not a possible phone number (default region US)")
    plain = describe(Issue("hubspot", "9", "", None, "deal 9: two Opportunities claim it"))
    assert (plain.unified_field, plain.kind, plain.reason) == ("deal 9", "", "two Opportunities claim it")


def test_each_kind_gets_a_fix_in_the_files_terms() -> None:
    assert fix_for("map", "lead_status", "salesforce", "00Q1", "not in the to_hubspot value map and no "
                   "default_to_hubspot") == ("add the value under [fields.lead_status.values.to_hubspot] in "
                                             "mappings/contacts.toml, or set default_to_hubspot in "
                                             "[fields.lead_status.values]")
    assert "correct the number in the salesforce record 00Q1" in fix_for("phone", "phone", "salesforce", "00Q1", "x")
    assert '"truncate"' in fix_for("truncate", "city", "hubspot", "7", "too long")
    assert "same e-mail address" in fix_for("owner", "owner", "hubspot", "7", "no salesforce owner has this email")
    assert fix_for("", "", "hubspot", "7", "two deals") == "look at the hubspot record 7: two deals"
