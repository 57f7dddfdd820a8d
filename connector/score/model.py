"""The scoring model: `mappings/scoring.toml`, validated like the other mapping files, compiled for speed.

RevOps edit the file; marketing and sales own it together (`owners`). Every problem in it is reported at
once with its key path and a fix (`MappingError`), and a bad file stops the run before any write. The
compiled `ScoringModel` is what the scorer reads: rules as plain tuples and pre-compiled regexes, so
scoring a person is a few dictionary look-ups per rule.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..reconcile.conditions import (ConditionSpec, FitTest, compile_regex, compile_test, is_blank, matches,
                                   number_of, text_of)
from ..reconcile.errors import MappingError, MappingProblem
from ..reconcile.loader import SCORING_FILE, Collector, loc_path, suggest
from ..report.sla import SlaSpec
from .timeline import KINDS

if TYPE_CHECKING:
    from .scorer import Points

__all__ = ["COMPANY_PREFIX", "SCORING_FILE", "STATUSES", "RANK", "EngagementRule", "FitRule", "KindPoints",
           "ScoringModel", "StatusRules", "load_scoring", "parse_scoring"]



#: the qualification statuses, in funnel order (Recycled and Disqualified stand beside it)
STATUSES: tuple[str, ...] = ("Lead", "MQL", "SAL", "SQL", "Opportunity", "Customer", "Recycled", "Disqualified")
#: how far along the funnel a status is: a status only moves forward, except through Recycled/Disqualified
RANK: Mapping[str, int] = {"Lead": 0, "Recycled": 0, "Disqualified": 0, "MQL": 1, "SAL": 2, "SQL": 3,
                           "Opportunity": 4, "Customer": 5}
_DAY_MS = 86_400_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class OwnersSpec(_Strict):
    marketing: str = Field(min_length=1)
    sales: str = Field(min_length=1)


class FitRuleSpec(ConditionSpec):
    """A fit rule: a condition (its field and one test, `reconcile.conditions`) with a name and its points."""

    name: str = Field(min_length=1)
    points: int = 0
    disqualify: bool = False


class KindSpec(_Strict):
    points: int
    cap: int | None = Field(default=None, ge=0)
    per_days: int = Field(default=30, ge=1)


class EngagementRuleSpec(_Strict):
    name: str = Field(min_length=1)
    kind: str
    detail_contains: str | None = None
    detail_regex: str | None = None
    points: int
    cap: int | None = Field(default=None, ge=0)
    per_days: int = Field(default=30, ge=1)


class NegativeSpec(_Strict):
    unsubscribe: int = Field(default=-10, le=0)
    hard_bounce: int = Field(default=-20, le=0)
    inactive_days: int = Field(default=90, ge=1)
    inactive_points: int = Field(default=-10, le=0)


class EngagementSpec(_Strict):
    half_life_days: float = Field(default=30.0, gt=0)
    kinds: dict[str, KindSpec] = Field(default_factory=dict)
    rules: list[EngagementRuleSpec] = Field(default_factory=list)
    negative: NegativeSpec = Field(default_factory=NegativeSpec)


class GradeSpec(_Strict):
    A: int
    B: int
    C: int


class ThresholdSpec(_Strict):
    mql: int = Field(ge=1)
    mql_min_grade: Literal["A", "B", "C", "D"] | None = None
    write_step: int = Field(default=5, ge=1)
    recycle_after_inactive_days: int | None = Field(default=90, ge=1)


class SalesforceStatusSpec(_Strict):
    accepted: list[str] = Field(default_factory=lambda: ["Working - Contacted"])
    qualified: list[str] = Field(default_factory=lambda: ["Closed - Converted"])
    recycled: list[str] = Field(default_factory=list)
    disqualified: list[str] = Field(default_factory=lambda: ["Closed - Not Converted"])
    reason_field: str | None = None


class HubSpotStatusSpec(_Strict):
    accepted: list[str] = Field(default_factory=lambda: ["IN_PROGRESS", "CONNECTED"])
    qualified: list[str] = Field(default_factory=lambda: ["OPEN_DEAL"])
    recycled: list[str] = Field(default_factory=list)
    disqualified: list[str] = Field(default_factory=lambda: ["UNQUALIFIED", "BAD_TIMING"])
    write_lifecycle_stage: bool = True


class StatusSpec(_Strict):
    salesforce: SalesforceStatusSpec = Field(default_factory=SalesforceStatusSpec)
    hubspot: HubSpotStatusSpec = Field(default_factory=HubSpotStatusSpec)


class ScoringFile(_Strict):
    version: int = Field(ge=1)
    owners: OwnersSpec
    fit: list[FitRuleSpec] = Field(default_factory=list)
    grade: GradeSpec | None = None
    engagement: EngagementSpec = Field(default_factory=EngagementSpec)
    thresholds: ThresholdSpec
    status: StatusSpec = Field(default_factory=StatusSpec)
    sla: SlaSpec | None = None


# ---------------------------------------------------------------- the compiled model



@dataclass(frozen=True, slots=True)
class FitRule:
    name: str
    field: str
    points: int
    disqualify: bool
    test: FitTest

    def matches(self, value: Any) -> bool:
        return matches(self.test, value)


@dataclass(frozen=True, slots=True)
class KindPoints:
    """Points for one kind of touch (or one engagement rule), capped per period of `per_ms`."""

    name: str
    points: int
    cap: int | None
    per_ms: int


@dataclass(frozen=True, slots=True)
class EngagementRule:
    kinds: KindPoints
    kind: str
    contains: str | None
    regex: re.Pattern[str] | None

    def matches(self, detail: str) -> bool:
        if self.contains is not None and self.contains not in detail.lower():
            return False
        return self.regex is None or self.regex.search(detail) is not None


@dataclass(frozen=True, slots=True)
class StatusRules:
    """Which values of the systems' lead statuses mean what (sales feedback)."""

    salesforce: Mapping[str, str]  # Lead Status value -> SAL | SQL | Recycled | Disqualified
    hubspot: Mapping[str, str]  # hs_lead_status value -> the same
    reason_field: str | None
    write_lifecycle_stage: bool


@dataclass(frozen=True)
class ScoringModel:
    """`scoring.toml`, compiled: what `score_person` and `advance` read."""

    version: int
    owners: Mapping[str, str]
    model_hash: str
    text: str
    fit: tuple[FitRule, ...]
    grades: tuple[tuple[str, int], ...]  # (grade, lowest fit points), best first; below the last: D
    kinds: Mapping[str, KindPoints]
    rules: Mapping[str, tuple[EngagementRule, ...]]  # by kind
    half_life_ms: float
    unsubscribe: int
    hard_bounce: int
    inactive_ms: int
    inactive_points: int
    mql: int
    mql_min_grade: str | None
    write_step: int
    recycle_inactive_ms: int | None
    status: StatusRules
    fields: tuple[str, ...] = field(default=())  # the unified fields the fit rules read
    #: the handoff SLA (`[sla]`: MQL to first sales touch in working hours); None: no clock is kept
    sla: SlaSpec | None = None
    #: the rules as `score_person` runs them (derived from the above, so not part of equality)
    plan: ScoringPlan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plan", _plan(self))

    def grade_of(self, fit_points: int) -> str | None:
        if not self.grades:
            return None
        for grade, floor in self.grades:
            if fit_points >= floor:
                return grade
        return "D"


#: one engagement entry of a kind, as `score_person` applies it: (name, points, cap, period ms, the detail's
#: lower-case substring, the detail's regex); both tests None for the kind's own points
EngagementEntry = tuple[str, int, int | None, int, str | None, re.Pattern[str] | None]


class ScoringPlan(NamedTuple):
    """The model compiled for the hot path: each fit rule as (name, field, test, points, disqualify, its line
    of the breakdown) with the test a closure specialised to its op; per kind, its own points (when not zero)
    then its rules, in order; the negatives' lines. Lines that never vary are made once (they are immutable)."""

    fit: tuple[tuple[str, str, Callable[[Any], bool], int, bool, Points | None], ...]
    by_kind: Mapping[str, tuple[EngagementEntry, ...]]
    unsubscribed: Points
    hard_bounce: Points
    inactive: Points


def _plan(model: ScoringModel) -> ScoringPlan:
    from .scorer import Points  # the scorer's type (it imports this module): only needed once a model exists

    def line(rule: FitRule) -> Points | None:
        if rule.points:
            return Points(rule.name, rule.points, 1, "fit")
        return Points(rule.name, 0, 1, "fit") if rule.disqualify else None

    by_kind: dict[str, list[EngagementEntry]] = {}
    for kind, kp in model.kinds.items():
        if kp.points:
            by_kind.setdefault(kind, []).append((kp.name, kp.points, kp.cap, kp.per_ms, None, None))
    for kind, rules in model.rules.items():
        for er in rules:
            k = er.kinds
            by_kind.setdefault(kind, []).append((k.name, k.points, k.cap, k.per_ms, er.contains, er.regex))
    return ScoringPlan(
        tuple((r.name, r.field, _compiled_test(r.test), r.points, r.disqualify, line(r)) for r in model.fit),
        {kind: tuple(entries) for kind, entries in by_kind.items()},
        Points("Unsubscribed", model.unsubscribe, 1, "negative"),
        Points("Hard bounce", model.hard_bounce, 1, "negative"),
        Points(f"No touch for {model.inactive_ms // 86_400_000} days", model.inactive_points, 1, "negative"))


def _compiled_test(test: FitTest) -> Callable[[Any], bool]:
    """`FitRule.matches` for one (op, argument), with the op's dispatch done once and text values (the usual
    case) taken without the generic conversions: the same answer for every value."""
    op, arg = test
    if op == "blank":
        def blank(value: Any) -> bool:
            return (value is None or (isinstance(value, str) and not value.strip())) is arg
        return blank
    if op == "regex":
        search = arg.search

        def regex(value: Any) -> bool:
            if value is None:
                return False
            if type(value) is str:
                return bool(value.strip()) and search(value) is not None
            return not is_blank(value) and search(str(value)) is not None
        return regex
    if op in ("eq", "in", "contains"):
        def text(value: Any) -> bool:
            if value is None:
                return False
            if type(value) is str:
                stripped = value.strip()
                if not stripped:
                    return False
                folded = stripped.casefold()
            elif is_blank(value):
                return False
            else:
                folded = text_of(value)
            return folded == arg if op == "eq" else folded in arg if op == "in" else arg in folded
        return text
    low, high = arg

    def in_range(value: Any) -> bool:
        if is_blank(value):
            return False
        number = number_of(value)
        if number is None:
            return False
        return (low is None or number >= low) and (high is None or number <= high)
    return in_range


def _status_map(col: Collector, path: str, sets: Mapping[str, Sequence[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for status, values in sets.items():
        for value in values:
            if value in out and out[value] != status:
                col.add(f"{path}.{status.lower()}", f"{value!r} is listed as both {out[value]} and {status}",
                        "a lead status value means one thing: keep it in one list")
            out[value] = status
    return out


#: a fit rule's field with this prefix reads the person's company (a field of companies.toml): "company.industry"
COMPANY_PREFIX = "company."

_FEEDBACK = ("accepted", "qualified", "recycled", "disqualified")
_MEANS = {"accepted": "SAL", "qualified": "SQL", "recycled": "Recycled", "disqualified": "Disqualified"}


def _compile(col: Collector, spec: ScoringFile, text: str, fields: Iterable[str] | None) -> ScoringModel | None:
    known = sorted(set(fields)) if fields is not None else None
    fit: list[FitRule] = []
    for i, rule in enumerate(spec.fit):
        path = f"fit[{i}]"
        if known is not None and rule.field not in known:
            where = ("the fields of companies.toml, as company.<field>" if rule.field.startswith(COMPANY_PREFIX)
                     else "the fields of contacts.toml (a company's: company.<field>, with companies.toml)")
            col.add(f"{path}.field", f"unknown unified field {rule.field!r}", suggest(rule.field, known, where))
            continue
        test = compile_test(col.add, path, rule)
        if test is not None:
            fit.append(FitRule(rule.name, rule.field, rule.points, rule.disqualify, test))
    grades: tuple[tuple[str, int], ...] = ()
    if spec.grade is not None:
        g = spec.grade
        if not g.A > g.B > g.C:
            col.add("grade", f"the floors must fall from A to C (A {g.A}, B {g.B}, C {g.C})",
                    "give A the highest fit points, then B, then C; below C is D")
        grades = (("A", g.A), ("B", g.B), ("C", g.C))
    if spec.thresholds.mql_min_grade is not None and spec.grade is None:
        col.add("thresholds.mql_min_grade", "a minimum grade needs grades", "add a [grade] table (A, B, C floors)")
    kinds: dict[str, KindPoints] = {}
    day = _DAY_MS
    for kind, ks in spec.engagement.kinds.items():
        if kind not in KINDS:
            col.add(f"engagement.kinds.{kind}", f"unknown kind of touch {kind!r}", suggest(kind, KINDS, "kinds"))
            continue
        kinds[kind] = KindPoints(kind, ks.points, ks.cap, ks.per_days * day)
    rules: dict[str, list[EngagementRule]] = {}
    for i, er in enumerate(spec.engagement.rules):
        path = f"engagement.rules[{i}]"
        if er.kind not in KINDS:
            col.add(f"{path}.kind", f"unknown kind of touch {er.kind!r}", suggest(er.kind, KINDS, "kinds"))
            continue
        rx = compile_regex(col.add, f"{path}.detail_regex", er.detail_regex) if er.detail_regex else None
        if er.detail_regex and rx is None:
            continue
        if er.detail_contains is None and er.detail_regex is None:
            col.add(path, "an engagement rule needs detail_contains or detail_regex",
                    "for points on every touch of a kind, use [engagement.kinds] instead")
            continue
        rules.setdefault(er.kind, []).append(EngagementRule(
            KindPoints(er.name, er.points, er.cap, er.per_days * day), er.kind,
            er.detail_contains.casefold() if er.detail_contains else None, rx))
    sf, hs = spec.status.salesforce, spec.status.hubspot
    sf_map = _status_map(col, "status.salesforce", {_MEANS[k]: getattr(sf, k) for k in _FEEDBACK})
    hs_map = _status_map(col, "status.hubspot", {_MEANS[k]: getattr(hs, k) for k in _FEEDBACK})
    if col.problems:
        return None
    neg, th = spec.engagement.negative, spec.thresholds
    return ScoringModel(
        version=spec.version, owners={"marketing": spec.owners.marketing, "sales": spec.owners.sales},
        model_hash=hashlib.sha256(text.encode()).hexdigest()[:16], text=text, fit=tuple(fit), grades=grades,
        kinds=kinds, rules={k: tuple(v) for k, v in rules.items()},
        half_life_ms=spec.engagement.half_life_days * day, unsubscribe=neg.unsubscribe,
        hard_bounce=neg.hard_bounce, inactive_ms=neg.inactive_days * day, inactive_points=neg.inactive_points,
        mql=th.mql, mql_min_grade=th.mql_min_grade, write_step=th.write_step,
        recycle_inactive_ms=th.recycle_after_inactive_days * day if th.recycle_after_inactive_days else None,
        status=StatusRules(sf_map, hs_map, sf.reason_field, hs.write_lifecycle_stage),
        fields=tuple(dict.fromkeys(r.field for r in fit)), sla=spec.sla)


def parse_scoring(text: str, file: str = SCORING_FILE, fields: Iterable[str] | None = None) -> ScoringModel:
    """The model in `text` (the contents of `file`); `fields`, the contacts mapping's unified field names, are
    what fit rules may read. Raises MappingError listing every problem."""
    col = Collector(file)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError([MappingProblem(file, "", f"not valid TOML: {exc}",
                                           "fix the syntax at that line")]) from None
    try:
        spec = ScoringFile.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            path = loc_path(err["loc"])
            if err["type"] == "extra_forbidden":
                col.add(path, f"unknown key {str(err['loc'][-1])!r}", "check the spelling against docs/scoring.md")
            elif err["type"] == "missing":
                col.add(path, "is required", "see mappings/scoring.toml as shipped for an example")
            else:
                col.add(path, err["msg"], f"got {err.get('input')!r}")
        raise MappingError(col.problems) from None
    model = _compile(col, spec, text, fields)
    if model is None:
        raise MappingError(col.problems)
    return model


def load_scoring(path: str | Path, fields: Iterable[str] | None = None) -> ScoringModel:
    """`parse_scoring` of the file at `path`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError([MappingProblem(str(p), "", f"cannot read the file: {exc.strerror}",
                                           "check the path and permissions")]) from None
    return parse_scoring(text, str(p), fields)

