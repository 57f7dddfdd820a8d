"""A small standard-object schema (Lead, Contact, Account, User, Opportunity, Task) for tests and demos.

Not the emulator's describe metadata: just enough real field names and types to exercise every
SOQL type rule, parent chains (Contact.Account.Owner.Manager.Email) and a polymorphic lookup
(Task.Who -> Lead | Contact).
"""

from __future__ import annotations

__all__ = ["sample_schema"]

from connector.reconcile.schema import SCORE_OUTPUTS

from ._schema import FieldInfo as F, FieldType
from ._static_schema import StaticSchema

#: the describe type of each of the connector scorer's outputs, as the emulator's org has them (a test holds
#: these equal to its ``DEFAULT_CUSTOM_FIELDS``)
SCORE_OUTPUT_TYPES: dict[str, FieldType] = {
    "score": "double", "grade": "picklist", "status": "picklist", "mql_date": "datetime",
    "status_reason": "string", "reason": "string", "sla_state": "picklist", "sla_due": "datetime",
    "touches_before_mql": "double", "first_touch": "string", "last_touch": "string",
}


def _system() -> list[F]:
    return [F("Id", "id"), F("IsDeleted", "boolean"), F("CreatedDate", "datetime"),
            F("LastModifiedDate", "datetime"), F("SystemModstamp", "datetime")]


def _owner() -> F:
    return F("OwnerId", "reference", "Owner", ("User",))


def _score_outputs() -> list[F]:
    """The scorer's output fields (Lead and Contact alike), in ``SCORE_OUTPUTS`` order."""
    return [F(api_name, SCORE_OUTPUT_TYPES[output], custom=True)
            for output, (_, api_name) in SCORE_OUTPUTS.items()]


def sample_schema() -> StaticSchema:
    """Lead, Contact, Account, User, Opportunity and Task with the dataset's field names."""
    return StaticSchema({
        "User": _system() + [
            F("Username", "string"), F("Email", "email"), F("FirstName", "string"), F("LastName", "string"),
            F("Name", "string"), F("Alias", "string"), F("IsActive", "boolean"),
            F("ManagerId", "reference", "Manager", ("User",)),
        ],
        "Account": _system() + [
            F("Name", "string"), F("Industry", "picklist"), F("NumberOfEmployees", "int"),
            F("AnnualRevenue", "currency"), F("Website", "url"), F("Type", "picklist"), _owner(),
        ],
        "Lead": _system() + [
            F("FirstName", "string"), F("LastName", "string"), F("Name", "string"), F("Company", "string"),
            F("Email", "email"),
            F("Phone", "phone"), F("Title", "string"), F("Website", "url"), F("Status", "picklist"),
            F("LeadSource", "picklist"), F("Rating", "picklist"), F("NumberOfEmployees", "int"),
            F("AnnualRevenue", "currency"), F("HasOptedOutOfEmail", "boolean"), F("IsConverted", "boolean"),
            F("ConvertedDate", "date"), F("ConvertedContactId", "reference", "ConvertedContact", ("Contact",)),
            F("Description", "textarea"), _owner(),
            F("HubSpot_Contact_Id__c", "string", custom=True), *_score_outputs(),
            F("Interests__c", "multipicklist", custom=True),
        ],
        "Contact": _system() + [
            F("FirstName", "string"), F("LastName", "string"), F("Name", "string"), F("Email", "email"),
            F("Phone", "phone"), F("AccountId", "reference", "Account", ("Account",)), F("MailingCity", "string"),
            F("HasOptedOutOfEmail", "boolean"), F("Birthdate", "date"), _owner(),
            F("HubSpot_Contact_Id__c", "string", custom=True), *_score_outputs(),
        ],
        "Opportunity": _system() + [
            F("Name", "string"), F("AccountId", "reference", "Account", ("Account",)), F("StageName", "picklist"),
            F("Amount", "currency"), F("CloseDate", "date"), F("Probability", "percent"),
            F("IsClosed", "boolean"), F("IsWon", "boolean"), _owner(),
        ],
        "Task": _system() + [
            F("Subject", "string"), F("Status", "picklist"), F("ActivityDate", "date"),
            F("WhoId", "reference", "Who", ("Lead", "Contact")),
            F("WhatId", "reference", "What", ("Account", "Opportunity")), _owner(),
        ],
    })
