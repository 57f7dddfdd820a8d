"""The Salesforce sink's reading of SaveResults."""

from __future__ import annotations

from connector.systems.ports import Item
from connector.systems.salesforce.sink import _save_result


def test_a_duplicate_value_names_its_field_from_the_message() -> None:
    """Salesforce leaves `fields` empty on DUPLICATE_VALUE and names the field in the message: the outcome
    names it, so the push resends the record without that one value instead of losing the whole write."""
    outcome = _save_result(Item("k", "00Q1", {}), {"success": False, "errors": [{
        "statusCode": "DUPLICATE_VALUE", "fields": [],
        "message": "duplicate value found: HubSpot_Contact_Id__c duplicates value on record with id: 00Q2"}]})
    assert outcome.code == "DUPLICATE_VALUE" and outcome.fields == ("HubSpot_Contact_Id__c",)
    other = _save_result(Item("k", "00Q1", {}), {"success": False, "errors": [{
        "statusCode": "STRING_TOO_LONG", "fields": ["City"], "message": "City: data value too large"}]})
    assert other.fields == ("City",)
