"""Marketing engagement: Events API, legacy email events, contact summaries and opt-outs."""

from __future__ import annotations

from datetime import UTC, datetime

from hubspot.communication_preferences import PublicUpdateSubscriptionStatusRequest

from connector.sandbox.dataset import MarketingEvent, MarketingEventKind, SeedBatch
from tests.sandbox.hubspot_fixtures import T0, Hub


def _event(eid: str, kind: MarketingEventKind, contact: int, at: int, **props: str) -> MarketingEvent:
    return {"id": eid, "kind": kind, "contact_id": str(contact), "email": f"person{contact}@example.com",
            "occurred_at": at, "properties": props}


def _seed(hub: Hub) -> None:
    hub.state.load(SeedBatch(marketing_events=[
        _event("pv1", "page_view", 1, T0 + 10_000, hs_url="https://x.test/pricing", hs_page_title="Pricing"),
        _event("pv2", "page_view", 1, T0 + 20_000, hs_url="https://x.test/demo", hs_page_title="Demo"),
        _event("fs1", "form_submission", 1, T0 + 30_000, form_id="f-1", form_title="Contact us", page_url="u"),
        _event("eo1", "email_open", 1, T0 + 40_000, email_campaign_id="77", subject="Hello"),
        _event("ec1", "email_click", 1, T0 + 50_000, email_campaign_id="77", subject="Hello", url="https://x.test/c"),
        _event("ed1", "email_delivered", 2, T0 + 5_000, email_campaign_id="77", subject="Hello"),
    ]))


def test_events_api_lists_page_views_and_form_submissions(hub: Hub) -> None:
    _seed(hub)
    page = hub.sdk.events.events_api.get_page(object_type="contact", object_id=1, limit=10)
    assert [(e.event_type, e.id) for e in page.results] == [
        ("e_submitted_form", "fs1"), ("e_visited_page", "pv2"), ("e_visited_page", "pv1")]
    assert page.results[1].properties["hs_page_title"] == "Demo"
    after = datetime.fromtimestamp((T0 + 15_000) / 1000, tz=UTC)
    views = hub.sdk.events.events_api.get_page(object_type="contact", object_id=1, event_type="e_visited_page",
                                               occurred_after=after)
    assert [e.id for e in views.results] == ["pv2"]
    types = hub.sdk.events.events_api.get_types()
    assert "e_visited_page" in types.event_types
    first = hub.http.get("/events/v3/events", params={"objectType": "contact", "objectId": 1, "limit": 2}).json()
    rest = hub.http.get("/events/v3/events", params={"objectType": "contact", "objectId": 1, "limit": 2,
                                                     "after": first["paging"]["next"]["after"]}).json()
    assert len(first["results"]) == 2 and [e["id"] for e in rest["results"]] == ["pv1"]


def test_email_events_api_filters_by_recipient_type_and_time(hub: Hub) -> None:
    _seed(hub)
    r = hub.http.get("/email/public/v1/events", params={"recipient": "person1@example.com"}).json()
    assert [e["type"] for e in r["events"]] == ["CLICK", "OPEN"] and r["hasMore"] is False
    assert r["events"][0]["url"] == "https://x.test/c" and r["events"][0]["emailCampaignId"] == 77
    opens = hub.http.get("/email/public/v1/events", params={"eventType": "DELIVERED",
                                                            "startTimestamp": T0, "endTimestamp": T0 + 6_000}).json()
    assert [e["recipient"] for e in opens["events"]] == ["person2@example.com"]
    paged = hub.http.get("/email/public/v1/events", params={"limit": 1}).json()
    assert paged["hasMore"] is True and paged["offset"]


def test_contact_summaries_follow_the_events(hub: Hub) -> None:
    _seed(hub)
    props = ("hs_email_open,hs_email_click,hs_email_last_click_date,hs_analytics_num_page_views,"
             "hs_analytics_last_visit_timestamp,num_conversion_events,recent_conversion_event_name")
    got = hub.http.get("/crm/v3/objects/contacts/1", params={"properties": props}).json()
    p = got["properties"]
    assert (p["hs_email_open"], p["hs_email_click"], p["hs_analytics_num_page_views"]) == ("1", "1", "2")
    assert p["num_conversion_events"] == "1" and p["recent_conversion_event_name"] == "Contact us"
    assert p["hs_analytics_last_visit_timestamp"] == "2023-11-14T22:13:40.000Z"
    hub.clock.freeze()
    added = hub.control("POST", "/events", json={"events": [
        _event("fs2", "form_submission", 1, hub.clock.now_ms(), form_id="f-2", form_title="Webinar")]})
    assert added.json() == {"added": 1}
    after = hub.http.get("/crm/v3/objects/contacts/1", params={"properties": props}).json()
    assert after["properties"]["num_conversion_events"] == "2"
    assert after["properties"]["recent_conversion_event_name"] == "Webinar"
    assert after["updatedAt"] > got["updatedAt"]
    read_only = hub.http.patch("/crm/v3/objects/contacts/1", json={"properties": {"hs_email_open": "5"}})
    assert read_only.status_code == 400


def test_unsubscribing_from_every_subscription_sets_email_optout(hub: Hub) -> None:
    status_api = hub.sdk.communication_preferences.status_api
    for sub in ("1", "2"):
        status_api.unsubscribe(PublicUpdateSubscriptionStatusRequest(
            email_address="person3@example.com", subscription_id=sub))
    got = hub.http.get("/crm/v3/objects/contacts/3", params={"properties": "hs_email_optout",
                                                             "propertiesWithHistory": "hs_email_optout"}).json()
    assert got["properties"]["hs_email_optout"] == "true"
    assert got["propertiesWithHistory"]["hs_email_optout"][0]["sourceType"] == "EMAIL"
    statuses = status_api.get_email_status("person3@example.com").subscription_statuses
    assert {s.status for s in statuses} == {"NOT_SUBSCRIBED"}
    again = hub.http.post("/communication-preferences/v3/unsubscribe",
                          json={"emailAddress": "person3@example.com", "subscriptionId": "1"})
    assert again.status_code == 400


def test_unsubscribe_all(hub: Hub) -> None:
    r = hub.http.post("/communication-preferences/v4/statuses/person4@example.com/unsubscribe-all",
                      params={"channel": "EMAIL"})
    assert r.status_code == 200
    got = hub.http.get("/crm/v3/objects/contacts/4", params={"properties": "hs_email_optout"}).json()
    assert got["properties"]["hs_email_optout"] == "true"


def test_bounces_and_unsubscribes_come_back_in_the_email_events_shape(hub: Hub) -> None:
    hub.state.load(SeedBatch(marketing_events=[
        _event("b1", "email_bounce", 1, T0 + 1_000, email_campaign_id="77", category="UNKNOWN_USER", status="550",
               response="550 5.1.1 user unknown"),
        _event("u1", "unsubscribe", 2, T0 + 2_000, email_campaign_id="77", source="SOURCE_RECIPIENT", portal="true",
               subscription_id="1001"),
    ]))
    bounces = hub.http.get("/email/public/v1/events", params={"eventType": "BOUNCE"}).json()["events"]
    assert [(e["id"], e["recipient"], e["category"], e["status"], e["emailCampaignId"]) for e in bounces] == [
        ("b1", "person1@example.com", "UNKNOWN_USER", "550", 77)]
    changes = hub.http.get("/email/public/v1/events", params={"eventType": "STATUSCHANGE"}).json()["events"]
    assert [(e["id"], e["source"], e["portalSubscriptionStatus"], e["subscriptions"]) for e in changes] == [
        ("u1", "SOURCE_RECIPIENT", "UNSUBSCRIBED", [{"id": 1001, "status": "UNSUBSCRIBED"}])]
    # they are not summarised as opens or deliveries
    got = hub.http.get("/crm/v3/objects/contacts/1", params={"properties": "hs_email_open,hs_email_delivered"}).json()
    assert got["properties"]["hs_email_open"] in (None, "0") and got["properties"]["hs_email_delivered"] in (None, "0")


def test_the_control_route_adds_a_bounce_and_refuses_an_unknown_kind(hub: Hub) -> None:
    added = hub.control("POST", "/events", json={"events": [
        _event("b2", "email_bounce", 3, T0 + 1_000, email_campaign_id="78", category="MAILBOX_FULL")]})
    assert added.json() == {"added": 1}
    events = hub.http.get("/email/public/v1/events", params={"recipient": "person3@example.com"}).json()["events"]
    assert [(e["type"], e["category"]) for e in events] == [("BOUNCE", "MAILBOX_FULL")]
    refused = hub.control("POST", "/events", json={"events": [
        {"id": "x1", "kind": "spam_report", "contact_id": "3", "email": "person3@example.com", "occurred_at": T0,
         "properties": {}}]})
    assert refused.status_code == 400
