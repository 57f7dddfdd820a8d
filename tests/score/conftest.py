"""Scoring core fixtures: a small model written inline, so each test reads the rules it depends on."""

from __future__ import annotations

import pytest

from connector.score.model import ScoringModel, parse_scoring

DAY = 86_400_000
NOW = 1_780_000_000_000  # 2026-05-28

BASE = """
version = 3
owners = { marketing = "Demand Gen", sales = "SDR lead" }

[[fit]]
name = "Senior title"
field = "job_title"
regex = '(?i)\\b(vp|director|chief)\\b'
points = 20

[[fit]]
name = "Big company"
field = "employees"
min = 100
points = 15

[[fit]]
name = "Target industry"
field = "industry"
in = ["Finance", "Machinery"]
points = 10

[[fit]]
name = "Free mail"
field = "email"
contains = "@gmail."
points = -15

[[fit]]
name = "No phone"
field = "phone"
blank = true
points = -5

[[fit]]
name = "Competitor"
field = "email"
regex = '@rival\\.example$'
disqualify = true

[grade]
A = 40
B = 25
C = 10

[engagement]
half_life_days = 30

[engagement.kinds]
page_view = { points = 1, cap = 5, per_days = 30 }
form_submission = { points = 10 }
meeting = { points = 10 }
call = { points = 4 }

[[engagement.rules]]
name = "Pricing page"
kind = "page_view"
detail_contains = "/pricing"
points = 8
cap = 8

[engagement.negative]
unsubscribe = -10
hard_bounce = -20
inactive_days = 90
inactive_points = -10

[thresholds]
mql = 50
write_step = 5
recycle_after_inactive_days = 60
"""

FIELDS = ("job_title", "employees", "industry", "email", "phone", "country")


@pytest.fixture()
def model() -> ScoringModel:
    return parse_scoring(BASE, "scoring.toml", FIELDS)


def with_lines(extra: str, fields: tuple[str, ...] = FIELDS) -> ScoringModel:
    return parse_scoring(BASE + extra, "scoring.toml", fields)
