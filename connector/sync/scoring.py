"""`connector score`: what the scoring model makes of the people in the store, with no API calls.

The summary scores everyone as of now without saving anything (the sync saves and publishes scores);
the backtest replays the stored timeline under the current and a proposed model side by side.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Engine

from ..objects.scores import score_people
from ..score.backtest import BacktestReport, PersonHistory, backtest
from ..score.model import ScoringModel
from ..store.scores import all_person_ids, opportunities_by_person, scoring_inputs

__all__ = ["BANDS", "backtest_store", "histories", "score_summary"]

_CHUNK = 2000

#: score bands of the summary (lower bounds)
BANDS = (0, 25, 50, 75, 100)


def _band(score: int) -> str:
    low = max((b for b in BANDS if score >= b), default=None)
    if low is None:
        return f"<{BANDS[0]}"
    i = BANDS.index(low)
    return f"{low}+" if i == len(BANDS) - 1 else f"{low}-{BANDS[i + 1] - 1}"


def score_summary(engine: Engine, model: ScoringModel, now: int | None = None) -> dict[str, Any]:
    """Everyone scored as of `now` (nothing saved): statuses, grades, score bands, the values the next sync
    would write, and the model in force."""
    started = time.perf_counter()
    now = int(time.time() * 1000) if now is None else now
    decisions = score_people(engine, model, now, save=False, everyone=True).decisions
    bands = Counter(_band(d.result.score) for d in decisions)
    return {
        "ok": True,
        "model": {"version": model.version, "hash": model.model_hash, "owners": dict(model.owners),
                  "mql_threshold": model.mql},
        "people": len(decisions),
        "statuses": dict(sorted(Counter(d.state.status for d in decisions).items())),
        "grades": dict(sorted(Counter(d.result.grade or "-" for d in decisions).items())),
        "score_bands": {k: bands.get(k, 0) for k in [f"<{BANDS[0]}", *(_band(x) for x in BANDS)]},
        "values_to_write": sum(len(d.changes) for d in decisions),
        "seconds": round(time.perf_counter() - started, 3),
    }


def histories(engine: Engine) -> Iterator[PersonHistory]:
    """Every person's fields, records, timeline and opportunities, read from the store in chunks."""
    ids = all_person_ids(engine)
    opportunities = opportunities_by_person(engine)
    for start in range(0, len(ids), _CHUNK):
        part = ids[start:start + _CHUNK]
        inputs = scoring_inputs(engine, part)
        for pid in part:
            yield PersonHistory(pid, inputs.fields[pid], tuple(inputs.records[pid]),
                                tuple(inputs.touches.get(pid, ())), tuple(opportunities.get(pid, ())))


def backtest_store(engine: Engine, current: ScoringModel, new: ScoringModel, *, start_ms: int, end_ms: int
                   ) -> BacktestReport:
    """The stored timeline replayed under both models (no API calls, nothing saved)."""
    return backtest(current, new, histories(engine), start_ms=start_ms, end_ms=end_ms)
