"""The seed generator: determinism, proportions, referential integrity, vocabulary and flat memory."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import weakref
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from connector.sandbox.dataset import MarketingEvent, SeedBatch
from connector.sandbox.salesforce.ids import KEY_PREFIXES, make_id, prefix_object
from connector.sandbox.seed import SeedProfile, generate
from connector.sandbox.seed._ids import fast_make_id

NOW = 1_795_000_000_000  # 2026-11-18T09:46:40Z
PEOPLE = 5_000

# ---- the dataset vocabulary of the shared context, written out independently of the generator ----
HS_PROPS = {
    "contacts": {
        "email",
        "firstname",
        "lastname",
        "phone",
        "mobilephone",
        "company",
        "jobtitle",
        "website",
        "city",
        "state",
        "country",
        "industry",
        "numemployees",
        "annualrevenue",
        "lifecyclestage",
        "hs_lead_status",
        "hubspot_owner_id",
        "hs_legal_basis",
        "hs_email_optout",
        "hs_analytics_source",
    },
    "deals": {"dealname", "amount", "dealstage", "pipeline", "closedate", "hubspot_owner_id"},
    "companies": {
        "name",
        "domain",
        "website",
        "industry",
        "numberofemployees",
        "annualrevenue",
        "city",
        "state",
        "country",
        "hubspot_owner_id",
        "createdate",
        "hs_lastmodifieddate",
    },
    "calls": {
        "hs_timestamp",
        "hs_call_title",
        "hs_call_body",
        "hs_call_direction",
        "hs_call_status",
        "hs_call_duration",
        "hubspot_owner_id",
    },
    "meetings": {
        "hs_timestamp",
        "hs_meeting_title",
        "hs_meeting_body",
        "hs_meeting_start_time",
        "hs_meeting_end_time",
        "hs_meeting_outcome",
        "hubspot_owner_id",
    },
    "emails": {"hs_timestamp", "hs_email_direction", "hs_email_subject", "hs_email_status", "hubspot_owner_id"},
    "notes": {"hs_timestamp", "hs_note_body", "hubspot_owner_id"},
    "tasks": {
        "hs_timestamp",
        "hs_task_subject",
        "hs_task_body",
        "hs_task_status",
        "hs_task_priority",
        "hs_task_type",
        "hubspot_owner_id",
    },
}
HS_ENUMS = {
    "numemployees": {"1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+"},
    "lifecyclestage": {
        "subscriber",
        "lead",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "opportunity",
        "customer",
        "evangelist",
        "other",
    },
    "hs_lead_status": {
        "NEW",
        "OPEN",
        "IN_PROGRESS",
        "OPEN_DEAL",
        "UNQUALIFIED",
        "ATTEMPTED_TO_CONTACT",
        "CONNECTED",
        "BAD_TIMING",
    },
    "hs_legal_basis": {
        "Legitimate interest – prospect/lead",
        "Legitimate interest – existing customer",
        "Legitimate interest - other",
        "Performance of a contract",
        "Freely given consent from contact",
        "Not applicable",
    },
    "hs_email_optout": {"true", "false"},
    "hs_analytics_source": {
        "ORGANIC_SEARCH",
        "PAID_SEARCH",
        "EMAIL_MARKETING",
        "SOCIAL_MEDIA",
        "REFERRALS",
        "OTHER_CAMPAIGNS",
        "DIRECT_TRAFFIC",
        "OFFLINE",
        "PAID_SOCIAL",
    },
    "dealstage": {
        "appointmentscheduled",
        "qualifiedtobuy",
        "presentationscheduled",
        "decisionmakerboughtin",
        "contractsent",
        "closedwon",
        "closedlost",
    },
    "pipeline": {"default"},
    "hs_call_direction": {"INBOUND", "OUTBOUND"},
    "hs_call_status": {"COMPLETED", "BUSY", "NO_ANSWER", "FAILED", "CANCELED"},
    "hs_meeting_outcome": {"SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"},
    "hs_email_direction": {"EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"},
    "hs_email_status": {"SENT", "BOUNCED", "FAILED"},
    "hs_task_status": {"NOT_STARTED", "COMPLETED"},
    "hs_task_priority": {"LOW", "MEDIUM", "HIGH"},
    "hs_task_type": {"EMAIL", "CALL", "TODO"},
}
STAMPS = {"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp"}
SF_FIELDS = {
    "User": {"Username", "Email", "FirstName", "LastName", "Name", "Alias", "IsActive"},
    "Account": {
        "Name",
        "Industry",
        "NumberOfEmployees",
        "AnnualRevenue",
        "Website",
        "BillingCity",
        "BillingState",
        "BillingCountry",
        "Type",
        "OwnerId",
        "ParentId",
    },
    "Lead": {
        "FirstName",
        "LastName",
        "Company",
        "Email",
        "Phone",
        "MobilePhone",
        "Title",
        "Website",
        "City",
        "State",
        "Country",
        "Industry",
        "NumberOfEmployees",
        "AnnualRevenue",
        "Status",
        "LeadSource",
        "Rating",
        "OwnerId",
        "HasOptedOutOfEmail",
        "Description",
        "IsConverted",
        "ConvertedDate",
        "ConvertedContactId",
        "ConvertedAccountId",
        "ConvertedOpportunityId",
    },
    "Contact": {
        "FirstName",
        "LastName",
        "Email",
        "Phone",
        "MobilePhone",
        "Title",
        "Department",
        "AccountId",
        "LeadSource",
        "OwnerId",
        "HasOptedOutOfEmail",
        "MailingCity",
        "MailingState",
        "MailingCountry",
        "Description",
    },
    "Opportunity": {
        "Name",
        "AccountId",
        "StageName",
        "Amount",
        "CloseDate",
        "Probability",
        "OwnerId",
        "LeadSource",
        "Type",
        "IsClosed",
        "IsWon",
    },
    "OpportunityContactRole": {"OpportunityId", "ContactId", "Role", "IsPrimary"},
    "Task": {
        "WhoId",
        "WhatId",
        "Subject",
        "Status",
        "Priority",
        "ActivityDate",
        "TaskSubtype",
        "Type",
        "CallDurationInSeconds",
        "CallType",
        "OwnerId",
        "CompletedDateTime",
        "Description",
    },
    "Event": {
        "WhoId",
        "WhatId",
        "Subject",
        "StartDateTime",
        "EndDateTime",
        "DurationInMinutes",
        "ActivityDateTime",
        "ActivityDate",
        "IsAllDayEvent",
        "EventSubtype",
        "Type",
        "OwnerId",
        "Description",
    },
    "Campaign": {"Name", "Type", "Status", "IsActive", "StartDate"},
    "CampaignMember": {"CampaignId", "LeadId", "ContactId", "Status", "HasResponded", "FirstRespondedDate"},
}
SF_REQUIRED = {
    "Account": {"Name"},
    "Lead": {"LastName", "Company", "Status"},
    "Contact": {"LastName"},
    "Opportunity": {"Name", "StageName", "CloseDate"},
    "OpportunityContactRole": {"OpportunityId", "ContactId"},
    "Campaign": {"Name"},
    "CampaignMember": {"CampaignId"},
}
LEAD_STATUSES = {"Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"}
OPP_STAGES = {
    "Prospecting": 10,
    "Qualification": 10,
    "Needs Analysis": 20,
    "Value Proposition": 50,
    "Id. Decision Makers": 60,
    "Perception Analysis": 70,
    "Proposal/Price Quote": 75,
    "Negotiation/Review": 90,
    "Closed Won": 100,
    "Closed Lost": 0,
}
SF_ENUMS = {
    ("Lead", "Status"): LEAD_STATUSES,
    ("Lead", "LeadSource"): {"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"},
    ("Contact", "LeadSource"): {"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"},
    ("Opportunity", "LeadSource"): {"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"},
    ("Lead", "Rating"): {"Hot", "Warm", "Cold"},
    ("Opportunity", "StageName"): set(OPP_STAGES),
    ("OpportunityContactRole", "Role"): {
        "Business User",
        "Decision Maker",
        "Economic Buyer",
        "Economic Decision Maker",
        "Evaluator",
        "Executive Sponsor",
        "Influencer",
        "Technical Buyer",
        "Other",
    },
    ("Task", "Status"): {"Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"},
    ("Task", "Priority"): {"High", "Normal", "Low"},
    ("Task", "TaskSubtype"): {"Task", "Email", "ListEmail", "Call", "LinkedIn", "Cadence"},
    ("Task", "Type"): {"Call", "Email", "Meeting", "Other"},
    ("Event", "Type"): {"Call", "Email", "Meeting", "Other"},
    ("Task", "CallType"): {"Inbound", "Outbound", "Internal"},
    ("CampaignMember", "Status"): {"Sent", "Responded"},
}
EVENT_PROPS = {
    "page_view": {"hs_url", "hs_page_title"},
    "form_submission": {"form_id", "form_title", "page_url"},
    "email_open": {"email_campaign_id", "subject"},
    "email_delivered": {"email_campaign_id", "subject"},
    "email_click": {"email_campaign_id", "subject", "url"},
    "email_bounce": {"email_campaign_id", "subject", "category", "status", "response"},
    "unsubscribe": {"email_campaign_id", "subject", "source", "portal", "subscription_id"},
}
SF_DATETIMES = (
    "CreatedDate",
    "LastModifiedDate",
    "SystemModstamp",
    "CompletedDateTime",
    "StartDateTime",
    "EndDateTime",
    "ActivityDateTime",
)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
VALID_PHONE = re.compile(r"^\+\d{1,3}( \d+)+$")
LOCAL_PHONE = re.compile(r"^(\(\d{3}\) \d{3}-\d{4}|0\d+ \d+)$")  # national formats, valid but not +cc
GONE = {"IsDeleted", "MasterRecordId", "_DeletedDate"}  # recycle bin and merge losers
MERGE_PROPS = {"hs_merged_object_ids", "hs_additional_emails"}


@dataclass
class World:
    """All batches of one generation, flattened, plus the batch number each record arrived in."""

    batches: int = 0
    hs: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    sf: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    assoc: list[tuple[str, str, str, str]] = field(default_factory=list)
    events: list[MarketingEvent] = field(default_factory=list)
    arrival: dict[str, int] = field(default_factory=dict)  # id -> batch number
    late_refs: list[str] = field(default_factory=list)
    hs_custom: set[str] = field(default_factory=set)  # the account's custom contact properties
    sf_custom: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # custom fields by sObject
    hs_merged: list[tuple[str, str, str]] = field(default_factory=list)


def collect(batches: Iterable[SeedBatch]) -> World:
    world = World()
    for n, batch in enumerate(batches):
        world.batches += 1
        for kind, records in batch.hubspot.items():
            world.hs[kind].extend(records)
            for r in records:
                world.arrival[f"hs:{kind}:{r['id']}"] = n
        for sobject, records in batch.salesforce.items():
            world.sf[sobject].extend(records)
            for r in records:
                world.arrival[r["Id"]] = n
        world.assoc.extend(batch.hubspot_associations)
        world.events.extend(batch.marketing_events)
        world.hs_custom.update(p["name"] for p in batch.hubspot_properties.get("contacts", []))
        for spec in batch.salesforce_fields:
            world.sf_custom[spec["sobject"]].add(spec["api_name"])
        world.hs_merged.extend(batch.hubspot_merged)
        # every reference must already be known (this batch or an earlier one)
        for sobject, records in batch.salesforce.items():
            for r in records:
                for key, value in r.items():
                    if (
                        key != "Id"
                        and isinstance(value, str)
                        and key.endswith("Id")
                        and world.arrival.get(value, 99**9) > n
                    ):
                        world.late_refs.append(f"{sobject}.{key}={value}")
        for a_type, a_id, b_type, b_id in batch.hubspot_associations:
            for ref in (f"hs:{a_type}:{a_id}", f"hs:{b_type}:{b_id}"):
                if world.arrival.get(ref, 99**9) > n:
                    world.late_refs.append(ref)
        for e in batch.marketing_events:
            if world.arrival.get(f"hs:contacts:{e['contact_id']}", 99**9) > n:
                world.late_refs.append(f"event contact {e['contact_id']}")
        for c in batch.hubspot.get("contacts", []) + batch.hubspot.get("deals", []):
            owner = c["properties"].get("hubspot_owner_id")
            if owner is not None and world.arrival.get(f"hs:owners:{owner}", 99**9) > n:
                world.late_refs.append(f"owner {owner}")
    return world


def digest(batches: Iterable[SeedBatch]) -> str:
    h = hashlib.sha256()
    for b in batches:
        h.update(
            json.dumps(
                [b.hubspot, b.hubspot_associations, b.marketing_events, b.salesforce],
                sort_keys=True,
                ensure_ascii=False,
            ).encode()
        )
    return h.hexdigest()


def norm(email: str | None) -> str:
    return (email or "").strip().lower()


@pytest.fixture(scope="module")
def world() -> World:
    return collect(generate(PEOPLE, 42, now_ms=NOW, batch_people=700))


@pytest.fixture(scope="module")
def people(world: World) -> dict[str, dict[str, Any]]:
    """Per normalized email: the HubSpot contact and the Salesforce person records."""
    index: dict[str, dict[str, Any]] = defaultdict(lambda: {"hs": None, "leads": [], "contacts": []})
    for c in world.hs["contacts"]:
        email = c["properties"]["email"]
        assert index[email]["hs"] is None, f"HubSpot email {email} twice"
        index[email]["hs"] = c
    for lead in world.sf["Lead"]:
        if "MasterRecordId" not in lead:  # a merge's loser is no one of its own
            index[norm(lead["Email"])]["leads"].append(lead)
    for contact in world.sf["Contact"]:
        if "MasterRecordId" not in contact:
            index[norm(contact["Email"])]["contacts"].append(contact)
    return dict(index)


def in_sf(p: dict[str, Any]) -> bool:
    return bool(p["contacts"] or [lead for lead in p["leads"] if not lead["IsConverted"]])


# ---------------------------------------------------------------------------- determinism and API


def test_same_arguments_give_identical_bytes_and_other_seeds_differ() -> None:
    first = digest(generate(1_500, 7, now_ms=NOW))
    assert first == digest(generate(1_500, 7, now_ms=NOW))
    assert first != digest(generate(1_500, 8, now_ms=NOW))
    assert first != digest(generate(1_500, 7, now_ms=NOW + 1))
    assert first != digest(generate(1_500, 7, now_ms=NOW, profile=SeedProfile(conflict_share=0.5)))


def test_output_does_not_depend_on_the_hash_seed_of_the_process() -> None:
    code = (
        "from connector.sandbox.seed import generate; import hashlib, json; h = hashlib.sha256()\n"
        f"for b in generate(800, 5, now_ms={NOW}):\n"
        "    h.update(json.dumps([b.hubspot, b.marketing_events, b.salesforce], sort_keys=True).encode())\n"
        "print(h.hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": str(n)},
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for n in (1, 2)
    }
    assert len(digests) == 1


def test_a_quality_knob_leaves_identities_and_presence_unchanged() -> None:
    def identities(profile: SeedProfile) -> list[tuple[str, str]]:
        return [
            (c["properties"]["email"], c["properties"]["firstname"])
            for b in generate(1_000, 4, now_ms=NOW, profile=profile)
            for c in b.hubspot["contacts"]
        ]

    calm, dirty = identities(SeedProfile(conflict_share=0.0)), identities(SeedProfile(conflict_share=0.9))
    assert calm == dirty and len(calm) > 800


def test_records_do_not_depend_on_batch_size() -> None:
    small, large = collect(generate(1_200, 3, now_ms=NOW, batch_people=97)), collect(generate(1_200, 3, now_ms=NOW))
    assert small.batches == 13 and large.batches == 2
    assert small.hs == large.hs and small.sf == large.sf
    assert small.assoc == large.assoc and small.events == large.events


def test_batches_hold_batch_people_and_the_first_holds_the_reps() -> None:
    batches = list(generate(2_500, 1, now_ms=NOW, batch_people=1_000))
    assert len(batches) == 3
    assert [len(b.hubspot["owners"]) for b in batches] == [12, 0, 0]
    assert [len(b.salesforce["User"]) for b in batches] == [12, 0, 0]
    assert [len(b.salesforce["Campaign"]) for b in batches] == [6, 0, 0]
    people_per_batch = [
        len(b.hubspot["contacts"]) + sum(1 for lead in b.salesforce["Lead"] if not lead["IsConverted"]) for b in batches
    ]
    assert people_per_batch[0] > people_per_batch[2] * 1.5  # 1,000 vs 500 people (duplicates add a few)
    assert all(b.size() > 0 for b in batches)


def test_zero_people_yield_the_world_furniture_only() -> None:
    (batch,) = generate(0, 1, now_ms=NOW)
    assert len(batch.hubspot["owners"]) == 12 and len(batch.salesforce["User"]) == 12
    assert batch.hubspot["contacts"] == [] and batch.salesforce["Lead"] == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"people": -1}, "people must be"),
        ({"batch_people": 0}, "batch_people must be"),
        ({"now_ms": 1_795_000_000}, "epoch milliseconds"),
    ],
)
def test_bad_arguments_say_what_to_fix(kwargs: dict[str, int], message: str) -> None:
    args = {"people": 10, "batch_people": 5, "now_ms": NOW} | kwargs
    with pytest.raises(ValueError, match=message):
        generate(args["people"], 1, now_ms=args["now_ms"], batch_people=args["batch_people"])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"both_share": 1.5},
        {"both_share": 0.9, "hubspot_only_share": 0.2},
        {"reps": 0},
        {"inactive_reps": 12},
        {"history_days": 0},
        {"marketing_events_per_person": -1.0},
    ],
)
def test_profile_rejects_impossible_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="SeedProfile"):
        SeedProfile(**kwargs)


def test_profile_knobs_change_the_world() -> None:
    only_both = collect(generate(800, 5, now_ms=NOW, profile=SeedProfile(both_share=1.0, hubspot_only_share=0.0)))
    assert len(only_both.hs["contacts"]) == 800
    live_leads = [lead for lead in only_both.sf["Lead"] if not lead["IsConverted"]]
    assert len(live_leads) + len(only_both.sf["Contact"]) >= 800
    quiet = collect(
        generate(
            800,
            5,
            now_ms=NOW,
            profile=SeedProfile(
                marketing_events_per_person=0.0, sales_activity_scale=0.0, campaigns=0, reps=3, inactive_reps=0
            ),
        )
    )
    assert (
        quiet.events == [] and quiet.sf["Task"] == [] and quiet.hs["calls"] == [] and quiet.sf["CampaignMember"] == []
    )
    assert len(quiet.hs["owners"]) == 3 and all(u["IsActive"] for u in quiet.sf["User"])


def test_fast_ids_equal_the_shared_make_id() -> None:
    rng = random.Random(0)
    for sobject in KEY_PREFIXES:
        for n in [0, 1, 61, 62, 916_132_831, 916_132_832, *(rng.randrange(62**8) for _ in range(300))]:
            assert fast_make_id(sobject, n) == make_id(sobject, n)


# ---------------------------------------------------------------------------- integrity


def test_every_reference_arrives_in_the_same_or_an_earlier_batch(world: World) -> None:
    assert world.batches == 8
    assert world.late_refs == []


def test_ids_are_unique_and_typed(world: World) -> None:
    for sobject, records in world.sf.items():
        ids = [r["Id"] for r in records]
        assert len(set(ids)) == len(ids)
        assert all(len(i) == 18 and prefix_object(i) == sobject for i in ids), sobject
    for kind, records in world.hs.items():
        ids = [r["id"] for r in records]
        assert len(set(ids)) == len(ids) and all(i.isdigit() for i in ids), kind
    all_hs = [r["id"] for kind, rs in world.hs.items() if kind != "owners" for r in rs]
    assert len(set(all_hs)) == len(all_hs)  # distinct ranges per type
    assert min(int(c["id"]) for c in world.hs["contacts"]) == 1
    assert len({e["id"] for e in world.events}) == len(world.events)


def test_references_point_at_the_right_object_types(world: World) -> None:
    users = {u["Id"] for u in world.sf["User"]}
    for sobject in ("Account", "Lead", "Contact", "Opportunity", "Task", "Event"):
        assert all(r["OwnerId"] in users for r in world.sf[sobject]), sobject
    for task in world.sf["Task"] + world.sf["Event"]:
        assert prefix_object(task["WhoId"]) in {"Lead", "Contact"}
        if "WhatId" in task:
            assert prefix_object(task["WhatId"]) == "Opportunity" and task["WhoId"].startswith("003")
    for member in world.sf["CampaignMember"]:
        assert ("LeadId" in member) != ("ContactId" in member)
    owners = {o["id"] for o in world.hs["owners"]}
    for kind in HS_PROPS:
        assert all(r["properties"].get("hubspot_owner_id", next(iter(owners))) in owners for r in world.hs[kind]), kind
    pairs = Counter((a, b) for a, _, b, _ in world.assoc)
    assert set(pairs) == {("contacts", k) for k in ("deals", "calls", "meetings", "emails", "notes", "tasks")}
    engaged = sum(len(world.hs[k]) for k in ("deals", "calls", "meetings", "emails", "notes", "tasks"))
    assert len(world.assoc) == engaged  # every deal and engagement is associated to exactly one contact


def test_reps_are_users_and_owners_with_the_same_emails(world: World) -> None:
    assert sorted(o["email"] for o in world.hs["owners"]) == sorted(u["Email"] for u in world.sf["User"])
    assert sum(not u["IsActive"] for u in world.sf["User"]) == 1


def test_converted_leads_point_at_their_contact_account_and_opportunity(world: World) -> None:
    contacts = {c["Id"]: c for c in world.sf["Contact"]}
    accounts = {a["Id"] for a in world.sf["Account"]}
    opps = {o["Id"]: o for o in world.sf["Opportunity"]}
    converted = [lead for lead in world.sf["Lead"] if lead["IsConverted"]]
    assert 0.10 < len(converted) / len(contacts) < 0.20
    with_opp = 0
    kinds: Counter[str] = Counter()
    for lead in converted:
        assert lead["Status"] == "Closed - Converted" and DATE.match(lead["ConvertedDate"])
        contact = contacts[lead["ConvertedContactId"]]
        assert contact["AccountId"] == lead["ConvertedAccountId"] and lead["ConvertedAccountId"] in accounts
        assert norm(contact["Email"]) == norm(lead["Email"])
        if lead["LastModifiedDate"] == contact["CreatedDate"]:  # the conversion made the Contact
            kinds["new contact"] += 1
        else:  # a duplicate Lead converted into the Contact that already existed
            assert contact["CreatedDate"] < lead["LastModifiedDate"] and "ConvertedOpportunityId" not in lead
            kinds["existing contact"] += 1
        if "ConvertedOpportunityId" in lead:
            with_opp += 1
            assert opps[lead["ConvertedOpportunityId"]]["AccountId"] == lead["ConvertedAccountId"]
    assert 0 < with_opp < len(converted)
    assert kinds["new contact"] > 0 and kinds["existing contact"] > 0
    shared_account = Counter(lead["ConvertedAccountId"] for lead in converted)
    assert any(n > 1 for n in shared_account.values())  # converted into an Account that already existed
    for lead in world.sf["Lead"]:
        if not lead["IsConverted"]:
            assert lead["Status"] != "Closed - Converted" and "ConvertedContactId" not in lead


def test_timestamps_are_ordered_and_never_in_the_future(world: World) -> None:
    for kind, records in world.hs.items():
        for r in records:
            if kind == "owners":
                continue
            assert 0 < r["createdAt"] <= r["updatedAt"] <= NOW, kind
            for prop, entries in r.get("history", {}).items():
                stamps = [e["timestamp"] for e in entries]
                assert stamps == sorted(stamps, reverse=True) and stamps[0] <= r["updatedAt"], (kind, prop)
                assert entries[0]["value"] == r["properties"][prop], (kind, prop)
    for sobject, records in world.sf.items():
        for r in records:
            assert 0 < r["CreatedDate"] <= r["LastModifiedDate"] <= r["SystemModstamp"] <= NOW, sobject
            datetimes = [r[k] for k in SF_DATETIMES if k in r]
            assert all(isinstance(t, int) and t % 1000 == 0 for t in datetimes), (sobject, datetimes)  # whole seconds
    for opp in world.sf["Opportunity"]:
        closed_in_past = opp["CloseDate"] <= "2026-11-18"
        assert closed_in_past == opp["IsClosed"], opp
    assert all(e["occurred_at"] <= NOW for e in world.events)


def test_some_records_share_the_exact_same_modified_millisecond(world: World) -> None:
    hs_times = Counter(c["updatedAt"] for c in world.hs["contacts"])
    sf_times = Counter(lead["SystemModstamp"] for lead in world.sf["Lead"] if not lead["IsConverted"])
    shared = sum(n for n in hs_times.values() if n > 1)
    assert 0.01 * PEOPLE < shared < 0.10 * PEOPLE
    assert max(sf_times.values()) >= 5


# ---------------------------------------------------------------------------- vocabulary


def test_hubspot_records_stay_inside_the_vocabulary(world: World) -> None:
    assert len(world.hs_custom) >= 200  # an account's years of custom properties
    for kind, allowed in HS_PROPS.items():
        if kind == "contacts":
            allowed = allowed | world.hs_custom | MERGE_PROPS
        for r in world.hs[kind]:
            assert set(r) <= {"id", "properties", "createdAt", "updatedAt", "history", "archived", "archivedAt"}
            assert set(r["properties"]) <= allowed, (kind, set(r["properties"]) - allowed)
            for prop, value in r["properties"].items():
                assert value is None or isinstance(value, str), (kind, prop)
                if prop in HS_ENUMS and value is not None:
                    assert value in HS_ENUMS[prop], (kind, prop, value)
    assert {set(o) == {"id", "email", "firstName", "lastName", "userId"} for o in world.hs["owners"]} == {True}
    for e in world.events:
        assert set(e["properties"]) == EVENT_PROPS[e["kind"]]


def test_salesforce_records_stay_inside_the_vocabulary(world: World) -> None:
    assert all(len(world.sf_custom[o]) >= 100 for o in ("Lead", "Contact"))
    for sobject, records in world.sf.items():
        allowed = SF_FIELDS[sobject] | STAMPS | world.sf_custom[sobject] | GONE
        for r in records:
            assert set(r) <= allowed, (sobject, set(r) - allowed)
            assert SF_REQUIRED.get(sobject, set()) <= set(r), (sobject, r)
            for (obj, fname), values in SF_ENUMS.items():
                if obj == sobject and fname in r:
                    assert r[fname] in values, (sobject, fname, r[fname])
    for opp in world.sf["Opportunity"]:
        assert opp["Probability"] == OPP_STAGES[opp["StageName"]]
        assert opp["IsWon"] == (opp["StageName"] == "Closed Won") and DATE.match(opp["CloseDate"])
    for record in world.sf["Lead"] + world.sf["Contact"]:
        assert record["LastName"] and len(record.get("Title", "")) <= 128  # Salesforce would reject these
    for member in world.sf["CampaignMember"]:
        assert member["HasResponded"] == (member["Status"] == "Responded") == ("FirstRespondedDate" in member)
    for event in world.sf["Event"]:
        assert event["EndDateTime"] - event["StartDateTime"] == event["DurationInMinutes"] * 60_000


# ---------------------------------------------------------------------------- proportions


def test_presence_shares(people: dict[str, dict[str, Any]]) -> None:
    total = len(people)
    assert abs(total - PEOPLE) < 0.01 * PEOPLE  # duplicates reuse the email, so one key per person
    both = sum(1 for p in people.values() if p["hs"] and in_sf(p))
    hs_only = sum(1 for p in people.values() if p["hs"] and not in_sf(p))
    sf_only = sum(1 for p in people.values() if not p["hs"])
    assert 0.66 < both / total < 0.74
    assert 0.17 < hs_only / total < 0.23
    assert 0.08 < sf_only / total < 0.12


def test_funnel_is_a_funnel_and_matches_salesforce(world: World, people: dict[str, dict[str, Any]]) -> None:
    stages = Counter(c["properties"]["lifecyclestage"] for c in world.hs["contacts"])
    assert stages["subscriber"] + stages["lead"] > 0.5 * len(world.hs["contacts"])
    assert stages["lead"] > stages["marketingqualifiedlead"] > stages["opportunity"] > stages["evangelist"]
    opps_by_account = defaultdict(list)
    for opp in world.sf["Opportunity"]:
        opps_by_account[opp["AccountId"]].append(opp["StageName"])
    for p in people.values():
        if not (p["hs"] and in_sf(p)):
            continue
        stage = p["hs"]["properties"]["lifecyclestage"]
        if stage in ("customer", "evangelist"):
            assert p["contacts"] and "Closed Won" in opps_by_account[p["contacts"][0]["AccountId"]]
        if stage in ("subscriber", "lead", "marketingqualifiedlead"):
            assert not p["contacts"] and p["leads"]


def test_deals_mirror_some_opportunities_and_some_are_hubspot_only(world: World) -> None:
    opps = {(o["Name"], o["Amount"]) for o in world.sf["Opportunity"]}
    deals = [(d["properties"]["dealname"], int(d["properties"]["amount"])) for d in world.hs["deals"]]
    mirrored = sum(1 for d in deals if d in opps)
    assert 0.3 * len(deals) < mirrored < 0.85 * len(deals)
    won = [d for d in world.hs["deals"] if d["properties"]["dealstage"] == "closedwon"]
    assert won and all("history" in d for d in won)


def test_dirty_data_exists_in_realistic_amounts(world: World, people: dict[str, dict[str, Any]]) -> None:
    overlaps = [p for p in people.values() if p["hs"] and in_sf(p)]
    sf_emails = [r["Email"] for p in overlaps for r in p["contacts"] + p["leads"]]
    case_variants = sum(
        1
        for p in overlaps
        if any(
            r["Email"].strip() != p["hs"]["properties"]["email"]
            and r["Email"].strip().lower() == p["hs"]["properties"]["email"]
            for r in p["contacts"] + p["leads"]
        )
    )
    assert 0.07 < case_variants / len(overlaps) < 0.16
    assert 0 < sum(1 for e in sf_emails if e != e.strip()) < 0.03 * len(sf_emails)
    contacts = world.hs["contacts"]
    props = [c["properties"] for c in contacts]
    phones = [r["phone"] for r in props if r.get("phone")]
    phones += [r["Phone"] for r in world.sf["Lead"] + world.sf["Contact"] if r.get("Phone")]
    local = sum(1 for p in phones if LOCAL_PHONE.match(p))
    assert 0.2 * len(phones) < local < 0.4 * len(phones)  # "(415) 555-0134", "030 1234567"
    bad_phones = sum(1 for p in phones if not VALID_PHONE.match(p) and not LOCAL_PHONE.match(p))
    assert 0.005 * PEOPLE < bad_phones < 0.06 * PEOPLE
    long_titles = sum(1 for r in props if len(r.get("jobtitle") or "") > 128)
    assert 0.003 * len(props) < long_titles < 0.03 * len(props)
    blank_last = sum(1 for r in props if not r.get("lastname"))
    assert 0.005 * len(props) < blank_last < 0.04 * len(props)
    assert {r["country"] for r in props} >= {"USA", "United States", "US", "Deutschland", "Germany"}
    unmapped_status = sum(1 for r in props if r.get("hs_lead_status") in ("BAD_TIMING", "OPEN_DEAL"))
    assert 0.01 * len(props) < unmapped_status < 0.12 * len(props)
    no_basis = sum(1 for r in props if "hs_legal_basis" not in r)
    assert 0.07 < no_basis / len(props) < 0.13


def test_duplicates_live_only_in_salesforce(people: dict[str, dict[str, Any]]) -> None:
    dupes = [
        p for p in people.values() if len([r for r in p["leads"] if not r["IsConverted"]]) + len(p["contacts"]) > 1
    ]
    assert 0.01 * PEOPLE < len(dupes) < 0.03 * PEOPLE
    kinds = Counter("lead+contact" if p["contacts"] else "two leads" for p in dupes)
    assert kinds["lead+contact"] > 0 and kinds["two leads"] > 0


def test_conflicts_differ_with_a_later_change_on_either_side(people: dict[str, dict[str, Any]]) -> None:
    overlaps = [p for p in people.values() if p["hs"] and in_sf(p)]
    conflicted = 0
    later: Counter[str] = Counter()
    for p in overlaps:
        hs = p["hs"]["properties"]
        sf = (p["contacts"] or [r for r in p["leads"] if not r["IsConverted"]])[0]
        history = p["hs"].get("history", {})
        changed_hs = [k for k in ("phone", "jobtitle", "company", "hs_analytics_source") if k in history]
        differs = not same_number(hs.get("phone"),
                                  sf.get("Phone")) or hs.get("jobtitle") != sf.get("Title") or changed_hs
        if differs:
            conflicted += 1
            later["hubspot" if p["hs"]["updatedAt"] > sf["LastModifiedDate"] else "salesforce"] += 1
    assert 0.22 < conflicted / len(overlaps) < 0.40  # 25% deliberate plus invalid phones and long titles
    assert later["hubspot"] > 0.25 * conflicted and later["salesforce"] > 0.25 * conflicted


def same_number(a: str | None, b: str | None) -> bool:
    """One number whatever the format ("+1 415 555 0134" and "(415) 555-0134"): the last seven digits."""
    return "".join(c for c in a or "" if c.isdigit())[-7:] == "".join(c for c in b or "" if c.isdigit())[-7:]


def test_opt_outs_sometimes_on_one_side_only(people: dict[str, dict[str, Any]]) -> None:
    hs_out = sf_out = one_side = unset = 0
    for p in people.values():
        h = bool(p["hs"]) and p["hs"]["properties"].get("hs_email_optout") == "true"
        unset += bool(p["hs"]) and "hs_email_optout" not in p["hs"]["properties"]
        s = any(r["HasOptedOutOfEmail"] for r in p["contacts"] + p["leads"] if not r.get("IsConverted"))
        hs_out += h
        sf_out += s
        one_side += p["hs"] is not None and in_sf(p) and h != s
    assert 0.03 * PEOPLE < hs_out < 0.07 * PEOPLE and 0.02 * PEOPLE < sf_out < 0.07 * PEOPLE
    assert one_side > 0
    hubspot = sum(1 for p in people.values() if p["hs"])
    assert 0.7 * hubspot < unset < 0.9 * hubspot  # never set: null, not "false"


def test_marketing_events_are_long_tailed_and_recent_for_mqls(world: World) -> None:
    per_contact = Counter(e["contact_id"] for e in world.events)
    counts = [per_contact.get(c["id"], 0) for c in world.hs["contacts"]]
    assert statistics.median(counts) <= 5 and max(counts) >= 40
    assert Counter(e["kind"] for e in world.events).keys() == EVENT_PROPS.keys()
    stage = {c["id"]: c["properties"]["lifecyclestage"] for c in world.hs["contacts"]}
    recent = NOW - 30 * 86_400_000

    def recent_share(stages: set[str]) -> float:
        ev = [e for e in world.events if stage[e["contact_id"]] in stages]
        return sum(1 for e in ev if e["occurred_at"] >= recent) / len(ev)

    assert recent_share({"marketingqualifiedlead"}) > 2 * recent_share({"subscriber", "customer"})
    contacts = {c["id"]: c for c in world.hs["contacts"]}
    assert all(e["email"] == contacts[e["contact_id"]]["properties"]["email"] for e in world.events)
    assert all(e["occurred_at"] >= NOW - 271 * 86_400_000 for e in world.events)


def test_sales_engagement_on_both_sides(world: World) -> None:
    for kind in ("calls", "meetings", "emails", "notes", "tasks"):
        assert len(world.hs[kind]) > 0.05 * PEOPLE, kind
    subtypes = Counter(t["TaskSubtype"] for t in world.sf["Task"])
    assert subtypes["Call"] and subtypes["Email"] and subtypes["Task"]
    assert world.sf["Event"] and any("WhatId" in t for t in world.sf["Task"] + world.sf["Event"])
    assert world.sf["CampaignMember"] and world.sf["OpportunityContactRole"]
    accounts = Counter(c["AccountId"] for c in world.sf["Contact"])
    assert max(accounts.values()) >= 5 and len(accounts) < len(world.sf["Contact"])  # accounts are shared


# ---------------------------------------------------------------------------- memory


def test_the_generator_keeps_no_batches_alive() -> None:
    refs: list[weakref.ref[SeedBatch]] = []
    for batch in generate(20_000, 11, now_ms=NOW, batch_people=1_000):
        refs.append(weakref.ref(batch))
        del batch
    gc.collect()
    alive = sum(r() is not None for r in refs)
    assert len(refs) == 20 and alive == 0


@pytest.mark.slow
def test_peak_rss_stays_flat_from_10k_to_100k_people() -> None:
    bench = Path(__file__).resolve().parents[2] / "bench" / "bench_seed.py"
    out = subprocess.run(
        [sys.executable, str(bench), "10000", "100000", "--json"], check=True, capture_output=True, text=True
    ).stdout
    small, large = (json.loads(line) for line in out.splitlines())
    assert large["peak_rss_mb"] - small["peak_rss_mb"] < 20, (small, large)
    assert large["records"] > 10 * PEOPLE  # (how fast: bench/bench_seed.py, never a timed test)


# ---------------------------------------------------------------------------- a messy past


def test_nothing_piles_up_on_the_last_millisecond(world: World) -> None:
    """Times that would fall after `now` are spread over the time before it, never clamped onto `now`: a
    first pull ending at `now` must not find dozens of records stamped with its last millisecond. The bulk
    imports' shared milliseconds (deliberate ties) stay."""
    hs_times = Counter(c["updatedAt"] for c in world.hs["contacts"])
    sf_times = Counter(r["SystemModstamp"] for o in ("Lead", "Contact") for r in world.sf[o])
    assert hs_times[NOW] <= 2 and sf_times[NOW // 1000 * 1000] <= 2
    assert max(hs_times.values()) >= 10  # a bulk import


def test_archived_and_merged_hubspot_contacts(world: World) -> None:
    contacts = world.hs["contacts"]
    archived = [c for c in contacts if c.get("archived")]
    assert 0.005 * len(contacts) < len(archived) < 0.03 * len(contacts)
    assert all(c["createdAt"] <= c["archivedAt"] == c["updatedAt"] <= NOW for c in archived)
    live_ids = {c["id"] for c in contacts}
    survivors = {c["id"]: c for c in contacts if "hs_merged_object_ids" in c["properties"]}
    assert 0.003 * len(contacts) < len(survivors) < 0.03 * len(contacts)
    assert {(t, new) for t, _, new in world.hs_merged} == {("contacts", i) for i in survivors}
    for _, old, new in world.hs_merged:
        assert old not in live_ids and int(old) < int(new)  # never a record of its own; the survivor is newer
        assert old in survivors[new]["properties"]["hs_merged_object_ids"].split(";")
    emails = {c["properties"]["email"] for c in contacts}
    extra = [e for c in survivors.values() for e in c["properties"]["hs_additional_emails"].split(";")]
    assert len(extra) == len(world.hs_merged) and not set(extra) & emails and len(set(extra)) == len(extra)


def test_deleted_merged_and_restored_salesforce_records(world: World) -> None:
    people = world.sf["Lead"] + world.sf["Contact"]
    by_id = {r["Id"]: r for r in people}
    losers = [r for r in people if "MasterRecordId" in r]
    binned = [r for r in people if r.get("IsDeleted") and "MasterRecordId" not in r]
    assert 0.003 * len(people) < len(losers) < 0.03 * len(people)
    assert 0.005 * len(people) < len(binned) < 0.03 * len(people)
    for r in losers + binned:
        assert r["IsDeleted"] and r["_DeletedDate"] == r["SystemModstamp"] == r["LastModifiedDate"]
    for loser in losers:
        master = by_id[loser["MasterRecordId"]]
        assert master["Id"][:3] == loser["Id"][:3]  # a Lead into a Lead, a Contact into a Contact
        assert norm(loser["Email"]) != norm(master["Email"]) and loser["LastName"] == master["LastName"]
    touched_later = sum(1 for r in people if not r.get("IsDeleted") and r["SystemModstamp"] > r["LastModifiedDate"])
    assert touched_later > 0.05 * len(people)  # automation and recycle-bin restores move SystemModstamp only


def test_dirty_values_people_leave(world: World, people: dict[str, dict[str, Any]]) -> None:
    hs = [c["properties"] for c in world.hs["contacts"]]
    countries = Counter(p["country"] for p in hs) + Counter(
        r["Country"] for r in world.sf["Lead"] if "Country" in r)
    assert countries["N/A"] > 0 and any(c != c.strip() for c in countries) and any(c.islower() for c in countries)
    both_kinds = [p for p in people.values() if p["contacts"] and [r for r in p["leads"] if not r["IsConverted"]]]
    assert both_kinds  # the same email on a Lead and a Contact


def test_a_few_people_bounce_or_unsubscribe_after_a_delivery(world: World) -> None:
    """About 2% of contacts sent marketing e-mail bounce and 3% unsubscribe, each after one of their deliveries
    of the same campaign; bounces carry a category, the permanent ones UNKNOWN_USER."""
    deliveries: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in world.events:
        if e["kind"] == "email_delivered":
            deliveries[e["contact_id"]].append(dict(e))
    negative = [e for e in world.events if e["kind"] in ("email_bounce", "unsubscribe")]
    bounced = {e["contact_id"] for e in negative if e["kind"] == "email_bounce"}
    unsubscribed = {e["contact_id"] for e in negative if e["kind"] == "unsubscribe"}
    sent = len(deliveries)
    assert 0.01 < len(bounced) / sent < 0.035 and 0.018 < len(unsubscribed) / sent < 0.045
    assert not bounced & unsubscribed and len(negative) == len(bounced) + len(unsubscribed)
    for e in negative:
        campaign = e["properties"]["email_campaign_id"]
        assert any(d["properties"]["email_campaign_id"] == campaign and d["occurred_at"] <= e["occurred_at"]
                   for d in deliveries[e["contact_id"]])
    categories = Counter(e["properties"]["category"] for e in negative if e["kind"] == "email_bounce")
    assert categories["UNKNOWN_USER"] and len(categories) > 1
    assert {e["properties"]["source"] for e in negative if e["kind"] == "unsubscribe"} <= {
        "SOURCE_RECIPIENT", "SOURCE_SPAM_REPORT"}
