"""One test on one unified field, the language both teams write conditions in (pure): scoring.toml's fit
rules and contacts.toml's `[inclusion] only_when` both say `field = "country", in = ["US", "CA"]`.

Tests: `equals`, `in`, `contains` (case-insensitive text), `regex` (searched), `min`/`max` (a numeric range;
"100-500" reads as 100, "1000+" as 1000), `blank` (true: no value; false: any value). Exactly one per
condition. Text compares trimmed and case-folded; a boolean is "true"/"false".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ConditionSpec", "Condition", "FitTest", "compile_test", "is_blank", "matches", "number_of", "text_of"]

#: a compiled test: (op, argument); ops: eq, in, contains, regex, range, blank
FitTest = tuple[str, Any]
#: where a compile problem goes: (key path, message, hint)
Report = Callable[[str, str, str], None]


class ConditionSpec(BaseModel):
    """A condition as a file writes it: a unified field and one test."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    field: str = Field(min_length=1)
    equals: str | int | float | bool | None = None
    in_: list[str | int | float] | None = Field(default=None, alias="in")
    contains: str | None = None
    regex: str | None = None
    min: float | None = None
    max: float | None = None
    blank: bool | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled condition: `field` passes `test`; `text` says it in words (for reasons and counts)."""

    field: str
    test: FitTest
    text: str

    def holds(self, values: Any) -> bool:
        """Whether the condition holds for a person's unified values (a mapping of field -> value)."""
        return matches(self.test, values.get(self.field))


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().casefold()


def number_of(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace(",", "")
    if text.endswith("+"):
        text = text[:-1]
    if "-" in text[1:]:  # a range such as HubSpot's "100-500": its lower bound
        text = text.split("-", 1)[0] if not text.startswith("-") else text
    try:
        return float(text)
    except ValueError:
        return None


def matches(test: FitTest, value: Any) -> bool:
    """Whether `value` passes the compiled `test`."""
    op, arg = test
    if op == "blank":
        return is_blank(value) is arg
    if is_blank(value):
        return False
    if op == "eq":
        return bool(text_of(value) == arg)
    if op == "in":
        return text_of(value) in arg
    if op == "contains":
        return arg in text_of(value)
    if op == "regex":
        return arg.search(str(value)) is not None
    number = number_of(value)
    if number is None:
        return False
    low, high = arg
    return (low is None or number >= low) and (high is None or number <= high)


def compile_regex(report: Report, path: str, pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error as exc:
        report(path, f"not a valid regular expression: {exc}", "check the escaping: in TOML write \\\\b as '\\b' "
               "inside single quotes, or double each backslash inside double quotes")
        return None


def compile_test(report: Report, path: str, spec: Any, what: str = "a fit rule") -> FitTest | None:
    """The one test of `spec` (a ConditionSpec, or any model with the same test fields), compiled; problems
    go to `report` and give None."""
    given = [name for name, value in (("equals", spec.equals), ("in", spec.in_), ("contains", spec.contains),
                                      ("regex", spec.regex), ("blank", spec.blank)) if value is not None]
    if spec.min is not None or spec.max is not None:
        given.append("min/max")
    if len(given) != 1:
        report(path, f"{what} needs exactly one test, found {len(given)}" + (f" ({', '.join(given)})"
                                                                            if given else ""),
               "use one of equals, in, contains, regex, min/max (a numeric range) or blank = true/false")
        return None
    if spec.equals is not None:
        return ("eq", text_of(spec.equals))
    if spec.in_ is not None:
        return ("in", frozenset(text_of(v) for v in spec.in_))
    if spec.contains is not None:
        return ("contains", spec.contains.strip().casefold())
    if spec.regex is not None:
        rx = compile_regex(report, f"{path}.regex", spec.regex)
        return ("regex", rx) if rx is not None else None
    if spec.blank is not None:
        return ("blank", spec.blank)
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        report(path, f"min ({spec.min:g}) is above max ({spec.max:g})", "swap them")
        return None
    return ("range", (spec.min, spec.max))


def described(field: str, test: FitTest) -> str:
    """A condition in words: "country in [ca, us]", "email is blank", "employees 50 to 500"."""
    op, arg = test
    if op == "eq":
        return f"{field} = {arg!r}"
    if op == "in":
        return f"{field} in [{', '.join(sorted(arg))}]"
    if op == "contains":
        return f"{field} contains {arg!r}"
    if op == "regex":
        return f"{field} matches /{arg.pattern}/"
    if op == "blank":
        return f"{field} is {'blank' if arg else 'not blank'}"
    low, high = arg
    if low is not None and high is not None:
        return f"{field} {low:g} to {high:g}"
    return f"{field} >= {low:g}" if low is not None else f"{field} <= {high:g}"
