"""What changed in a mapping file, field by field (pure)."""

from __future__ import annotations

from connector.reconcile.mapping_diff import field_changes, native_names

BEFORE = '''
[fields.job_title]
hubspot = "jobtitle"
salesforce = { lead = "Title", contact = "Title" }
rule = "prefer_salesforce_unless_blank"
transforms = ["trim"]

[fields.city]   # a comment
hubspot = "city"
salesforce = { lead = "City", contact = "MailingCity" }
rule = "most_recent"

[fields.gone]
hubspot = "x"
'''

AFTER = '''
[fields.city]
rule = "most_recent"
salesforce = { lead = "City", contact = "MailingCity" }
hubspot = "city"

[fields.job_title]
hubspot = "jobtitle"
salesforce = { lead = "Title", contact = "Title" }
rule = "most_recent"
transforms = ["trim", "upper"]

[fields.fresh]
hubspot = "y"
'''


def test_changed_added_and_removed_fields_and_nothing_for_a_reordering() -> None:
    changes = field_changes("contacts.toml", BEFORE, AFTER)
    assert [(c.field, c.changes) for c in changes] == [
        ("fresh", ("added",)), ("gone", ("removed",)),
        ("job_title", ("rule: prefer_salesforce_unless_blank -> most_recent", "transforms changed"))]
    assert field_changes("contacts.toml", BEFORE, BEFORE) == []
    assert field_changes("contacts.toml", None, "not toml [") == []


def test_the_names_a_field_writes_under() -> None:
    assert native_names({"hubspot": "jobtitle", "salesforce": {"lead": "Title", "contact": "Title"}}) == {
        "hubspot": {"jobtitle"}, "salesforce": {"Title"}}
    assert native_names({"hubspot": "amount", "salesforce": "Amount"}) == {"hubspot": {"amount"},
                                                                            "salesforce": {"Amount"}}
    assert native_names(None) == {}
