"""Errors of the reconciliation core.

ReconcileError                 root: anything the reconciliation core raises
├── MappingError               fix config: one or more mapping files are invalid (carries every problem)
└── TransformError             fix this record: a value cannot be converted (caught and reported as an Issue)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ReconcileError", "MappingError", "MappingProblem", "TransformError"]


class ReconcileError(Exception):
    """Root of every error raised by connector.reconcile, so callers can catch one type."""


@dataclass(frozen=True)
class MappingProblem:
    """One thing wrong in one mapping file, located by key path, with a hint how to fix it."""

    file: str
    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        text = f"{where}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class MappingError(ReconcileError):
    """The mapping files are invalid; ``problems`` lists every problem found in every file."""

    def __init__(self, problems: list[MappingProblem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in mapping files:\n{lines}")


class TransformError(ReconcileError):
    """A value cannot be converted between a system's form and the unified form."""

    def __init__(self, transform: str, value: object, reason: str) -> None:
        self.transform = transform
        self.value = value
        self.reason = reason
        super().__init__(f"{transform}: cannot convert {value!r}: {reason}")
