"""What happened to a person's records after they were made: archived or deleted, merged, restored.

Real accounts are full of these: a HubSpot contact archived by a marketer, a Salesforce Lead in the
recycle bin, two contacts merged by hand on either side, a record restored after a wrong delete, a
duplicate Lead converted into the Contact that already existed. Drawn from their own stream
("lifecycle"), so the rest of the world is the same whatever these shares are.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from ._profile import SeedProfile
from ._rng import between

if TYPE_CHECKING:
    from ._person import Person

__all__ = ["Fates"]


class Fates:
    """Decides each person's later events and moves the record times they touch."""

    def __init__(self, profile: SeedProfile, now_ms: int, rng: random.Random) -> None:
        self.p = profile
        self.now = now_ms
        self.rng = rng

    def apply(self, person: Person) -> None:
        p, rng, now = self.p, self.rng, self.now
        if person.presence != "salesforce":
            if rng.random() < p.hubspot_merged_share:
                person.hs_absorbed = 1 if rng.random() < 0.9 else 2
                person.hs_merged_at = between(rng, person.hs_created, now)
                person.hs_modified = max(person.hs_modified, person.hs_merged_at)
            if rng.random() < p.hubspot_archived_share:
                person.hs_archived_at = between(rng, person.hs_modified, now)
                person.hs_modified = person.hs_archived_at
        if person.sf_kind is not None:
            if rng.random() < p.salesforce_merged_share:
                person.sf_merged_at = between(rng, person.converted_at or person.sf_created, now)
                if person.sf_merged_at > person.sf_modstamp:
                    person.sf_modified = person.sf_modstamp = person.sf_merged_at
            u = rng.random()
            if u < p.salesforce_deleted_share:
                person.sf_deleted_at = between(rng, person.sf_modstamp, now)
            elif u < p.salesforce_deleted_share + p.salesforce_restored_share:
                person.sf_restored_at = between(rng, person.sf_modstamp, now)
                person.sf_modstamp = person.sf_restored_at  # an undelete is the system's change, not a user's
        if person.duplicate_at and person.sf_kind == "contact" and rng.random() < p.converted_into_existing_share:
            # after both the duplicate and the Contact it is converted into existed (a second later at least)
            after = max(person.duplicate_at, person.converted_at or person.sf_created) + 1_000
            if after <= now:
                person.dup_converted_at = between(rng, after, now)
