"""Scoring: one jointly owned model (`mappings/scoring.toml`) applied to every unified person.

The pure core: `model` (the file, validated and compiled), `timeline` (touches from both systems, each
once), `scorer` (fit + engagement with decay and caps, the breakdown and reason text) and `status` (the
qualification state machine). The stage that runs it over the store and plans the writes is
`connector.objects.scores`; `connector score --backtest` replays the stored timeline (`backtest`).
"""

from .model import SCORING_FILE, STATUSES, ScoringModel, load_scoring, parse_scoring
from .scorer import ScoreResult, next_change, score_person, should_publish
from .status import Opportunities, Signals, StatusState, Transition, advance
from .timeline import Touch, dedupe

__all__ = ["SCORING_FILE", "STATUSES", "Opportunities", "ScoreResult", "ScoringModel", "Signals", "StatusState",
           "Touch", "Transition", "advance", "dedupe", "load_scoring", "next_change", "parse_scoring",
           "score_person", "should_publish"]
