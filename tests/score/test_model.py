"""scoring.toml: every problem reported with its key path and a fix; the shipped file is valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.reconcile import MappingError, load_mappings
from connector.score.model import parse_scoring

from .conftest import BASE, FIELDS

REPO = Path(__file__).resolve().parents[2]


def _problems(text: str) -> list[str]:
    with pytest.raises(MappingError) as info:
        parse_scoring(text, "scoring.toml", FIELDS)
    return [str(p) for p in info.value.problems]


def test_the_shipped_model_loads_with_the_shipped_mappings() -> None:
    mappings = load_mappings(REPO / "mappings")
    assert mappings.scoring is not None
    assert mappings.scoring.version >= 1 and mappings.scoring.mql > 0
    assert set(mappings.scoring.owners) == {"marketing", "sales"}


def test_a_rule_on_an_unknown_field_names_the_rule_and_suggests_the_field() -> None:
    (problem,) = _problems(BASE.replace('field = "industry"', 'field = "industy"'))
    assert "scoring.toml: fit[2].field: unknown unified field 'industy'" in problem
    assert "did you mean 'industry'" in problem


def test_a_rule_needs_exactly_one_test() -> None:
    text = BASE.replace('in = ["Finance", "Machinery"]', 'in = ["Finance"]\nequals = "Finance"')
    (problem,) = _problems(text)
    assert "fit[2]" in problem and "exactly one test, found 2 (equals, in)" in problem


def test_bad_regex_unknown_kind_and_unknown_key_are_all_reported_at_once() -> None:
    text = (BASE.replace("regex = '@rival\\.example$'", "regex = '@(rival'")
            .replace("page_view = { points = 1", "page_veiw = { points = 1")
            .replace("[thresholds]\nmql = 50", "[thresholds]\nmql = 50\nmlq_grade = 'A'"))
    problems = _problems(text)
    assert any("thresholds.mlq_grade: unknown key 'mlq_grade'" in p for p in problems)
    problems = _problems(text.replace("mlq_grade = 'A'\n", ""))
    assert any("fit[5].regex: not a valid regular expression" in p for p in problems)
    assert any("engagement.kinds.page_veiw: unknown kind of touch" in p and "'page_view'" in p for p in problems)


def test_missing_thresholds_and_owners_are_required() -> None:
    problems = _problems('version = 1\n')
    assert any(p.startswith("scoring.toml: owners: is required") for p in problems)
    assert any(p.startswith("scoring.toml: thresholds: is required") for p in problems)


def test_grade_floors_must_fall_and_a_minimum_grade_needs_grades() -> None:
    (problem,) = _problems(BASE.replace("A = 40\nB = 25", "A = 20\nB = 25"))
    assert "grade: the floors must fall from A to C" in problem
    text = BASE.replace("[grade]\nA = 40\nB = 25\nC = 10\n", "").replace("mql = 50", "mql = 50\nmql_min_grade = 'B'")
    (problem,) = _problems(text)
    assert "thresholds.mql_min_grade: a minimum grade needs grades" in problem


def test_a_lead_status_value_means_one_thing() -> None:
    text = BASE + '\n[status.salesforce]\naccepted = ["Working"]\ndisqualified = ["Working"]\n'
    (problem,) = _problems(text)
    assert "'Working' is listed as both" in problem


def test_the_hash_changes_with_the_text_and_not_otherwise() -> None:
    a = parse_scoring(BASE, "scoring.toml", FIELDS)
    b = parse_scoring(BASE, "other.toml", FIELDS)
    c = parse_scoring(BASE.replace("mql = 50", "mql = 55"), "scoring.toml", FIELDS)
    assert a.model_hash == b.model_hash != c.model_hash


def test_the_scorer_outputs_may_not_be_mapped_as_contact_fields(tmp_path: Path) -> None:
    for name in ("contacts.toml", "opportunities.toml", "scoring.toml"):
        (tmp_path / name).write_text((REPO / "mappings" / name).read_text())
    with (tmp_path / "contacts.toml").open("a") as f:
        f.write('\n[fields.score]\nhubspot = "connector_score"\nsalesforce = { lead = "Connector_Score__c" }\n'
                'rule = "most_recent"\n')
    with pytest.raises(MappingError) as info:
        load_mappings(tmp_path)
    (problem,) = info.value.problems
    assert problem.path == "fields.score" and "which the scorer writes" in problem.message
    assert "remove [fields.score]" in problem.hint
