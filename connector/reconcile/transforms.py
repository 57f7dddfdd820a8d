"""Value transforms between each system's native form and the unified (canonical) form.

Every transform is a pair: ``decode`` (native -> unified, applied in list order) and ``encode``
(unified -> native, applied in reverse). Values are compared in the unified form, so
"+1 (415) 555-0100" and "14155550100" are the same phone. A value that cannot be converted raises
``TransformError``; the resolver reports it as an Issue and never writes over it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, ClassVar, Literal, NamedTuple, Self

import phonenumbers
import pycountry

from .errors import TransformError
from .records import OwnerDirectory
from .schema import EMPLOYEE_RANGES

__all__ = [
    "TransformContext",
    "CallContext",
    "Transform",
    "Chain",
    "is_blank",
    "blank_for",
    "TRANSFORM_NAMES",
    "Trim",
    "Case",
    "Phone",
    "Country",
    "DateValue",
    "DateTimeValue",
    "Number",
    "Integer",
    "Boolean",
    "Owner",
    "ValueMap",
    "EmployeeRange",
    "StageMap",
    "Truncate",
    "Url",
    "UrlText",
    "url_key",
    "COUNTRY_ALIASES",
    "DecodeFailure",
]

CountryFormat = Literal["name", "alpha2", "alpha3"]


@dataclass(frozen=True)
class TransformContext:
    """What transforms need at reconcile time that the mapping file cannot know."""

    owners: OwnerDirectory = field(default_factory=OwnerDirectory)
    pipeline: str = "default"


class CallContext(TransformContext):
    """The context of one ``reconcile()`` call (made by the engine, never shared between calls).

    Its owners and pipeline cannot change during the call, so context-dependent transforms (Owner,
    StageMap) may memoise their results for as long as the call lasts.
    """

    __slots__ = ()


def is_blank(value: Any) -> bool:
    """True for None and empty or whitespace-only strings (both systems' ways of saying 'no value')."""
    return value is None or (isinstance(value, str) and not value.strip())


def blank_for(system: str) -> Any:
    """How a system is told to clear a field: HubSpot takes "", Salesforce takes null."""
    return "" if system == "hubspot" else None


class Transform:
    """Base: identity both ways; subclasses override what they convert."""

    name: ClassVar[str] = "identity"

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        return value

    def encode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        return value


_CACHE_LIMIT = 16_384  # per chain and system; low-cardinality fields (countries, statuses) hit, the rest cycle


class DecodeFailure(NamedTuple):
    """A memoised decode failure (re-raised as a fresh TransformError each time)."""

    transform: str
    reason: str


class _EncodeFailure(NamedTuple):
    """A memoised encode failure (re-raised as a fresh, identical TransformError each time)."""

    transform: str
    value: Any
    reason: str


_MISS = object()


class Chain:
    """An ordered list of transforms applied to one field on both sides.

    Decoding is memoised per system for chains that do not depend on the reconcile-time context
    (owners, pipeline), since the same values (countries, statuses, names) recur across people.
    Chains whose every decode step ignores the system share one decode memo between both systems
    (the same e-mail address or company name on both sides is decoded once). Chains that depend on
    the context (Owner, StageMap) are memoised only for the duration of one ``reconcile()`` call,
    whose context cannot change meanwhile (see ``CallContext``).
    """

    __slots__ = (
        "transforms", "names", "_caches", "cacheable", "hubspot_cache", "salesforce_cache", "_encoded",
        "hubspot_encoded", "salesforce_encoded", "_scoped",
    )

    def __init__(self, transforms: Sequence[Transform]) -> None:
        self.transforms = tuple(transforms)
        self.names = tuple(t.name for t in self.transforms)
        #: whether decoding and encoding are pure functions of the value (no Owner or StageMap step); a plain
        #: attribute, as the resolver reads it on its hot path
        self.cacheable: bool = not any(isinstance(t, (Owner, StageMap)) for t in self.transforms)
        # memo of decoded values (or DecodeFailure) by native value; read directly by the resolver's fast path
        self.hubspot_cache: dict[Any, Any] = {}
        self.salesforce_cache: dict[Any, Any] = self.hubspot_cache if all(
            type(t) in _SYSTEM_FREE_DECODE for t in self.transforms) else {}
        self._caches: dict[str, dict[Any, Any]] = {"hubspot": self.hubspot_cache, "salesforce": self.salesforce_cache}
        # memo of encoded values (or _EncodeFailure) by unified value, for str/int/bool values of cacheable chains
        self.hubspot_encoded: dict[Any, Any] = {}
        self.salesforce_encoded: dict[Any, Any] = {}
        self._encoded: dict[str, dict[Any, Any]] = {"hubspot": self.hubspot_encoded,
                                                    "salesforce": self.salesforce_encoded}
        # (context, decode memos, encode memos) of the one reconcile() call being served, for context-dependent chains
        self._scoped: tuple[CallContext, dict[str, dict[Any, Any]], dict[str, dict[Any, Any]]] | None = None

    def _scoped_memos(self, ctx: CallContext) -> tuple[Any, dict[str, dict[Any, Any]], dict[str, dict[Any, Any]]]:
        scoped = self._scoped  # read once: another thread may switch it to its own call's memos
        if scoped is None or scoped[0] is not ctx:
            scoped = (ctx, {"hubspot": {}, "salesforce": {}}, {"hubspot": {}, "salesforce": {}})
            self._scoped = scoped
        return scoped

    def decode_fast(self, value: Any, system: str, ctx: TransformContext) -> Any:
        """Like decode, memoised; raises the same TransformError for a bad value."""
        if value is None:
            return None
        if self.cacheable:
            cache = self._caches[system]
        elif type(ctx) is CallContext:
            cache = self._scoped_memos(ctx)[1][system]
        else:
            return self.decode(value, system, ctx)
        key = value if type(value) is str else (type(value), value)  # keeps True, 1 and 1.0 apart
        try:
            hit = cache.get(key, _MISS)
        except TypeError:  # unhashable native value
            return self.decode(value, system, ctx)
        if hit is _MISS:
            return self._remember(cache, key, value, system, ctx)
        if type(hit) is DecodeFailure:
            raise TransformError(hit.transform, value, hit.reason)
        return hit

    def decode_miss(self, value: Any, system: str, ctx: TransformContext) -> Any:
        """decode_fast for a non-None value known to be missing from its memo: decodes and memoises it."""
        if self.cacheable:
            cache = self._caches[system]
        elif type(ctx) is CallContext:
            cache = self._scoped_memos(ctx)[1][system]
        else:
            return self.decode(value, system, ctx)
        if type(value) is str:
            key: Any = value
        else:
            key = (type(value), value)
            try:
                hash(key)
            except TypeError:  # unhashable native value: not memoised, as in decode_fast
                return self.decode(value, system, ctx)
        return self._remember(cache, key, value, system, ctx)

    def _remember(self, cache: dict[Any, Any], key: Any, value: Any, system: str, ctx: TransformContext) -> Any:
        """Decode a value missing from `cache` and memoise the result (a failure too, re-raised each time)."""
        hit = self.memoise(cache, key, value, system, ctx)
        if type(hit) is DecodeFailure:
            raise TransformError(hit.transform, value, hit.reason)
        return hit

    def memoise(self, cache: dict[Any, Any], key: Any, value: Any, system: str, ctx: TransformContext) -> Any:
        """Decode a value missing from `cache` (one of this chain's memos) and memoise the result; a failure
        is memoised and returned as a DecodeFailure, not raised (the resolver reports it as an Issue)."""
        try:
            hit = self.decode(value, system, ctx)
        except TransformError as exc:
            hit = DecodeFailure(exc.transform, exc.reason)
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = hit
        return hit

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        """Native -> unified; blanks become None. Raises TransformError."""
        if value is None or (isinstance(value, str) and not value.strip()):  # is_blank, inlined
            return None
        for t in self.transforms:
            value = t.decode(value, system, ctx)
            if value is None or (isinstance(value, str) and not value.strip()):
                return None
        return value

    def encode_fast(self, value: Any, system: str, ctx: TransformContext) -> Any:
        """Like encode, memoised for str, int and bool values; raises the same errors."""
        t = type(value)
        if t is not str and t is not int and t is not bool:
            return self.encode(value, system, ctx)
        if self.cacheable:
            cache = self._encoded[system]
        elif type(ctx) is CallContext:
            cache = self._scoped_memos(ctx)[2][system]
        else:
            return self.encode(value, system, ctx)
        key = value if t is str else (t, value)  # keeps True and 1 apart
        hit = cache.get(key, _MISS)
        if hit is _MISS:
            try:
                hit = self.encode(value, system, ctx)
            except TransformError as exc:
                hit = _EncodeFailure(exc.transform, exc.value, exc.reason)
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[key] = hit
        if type(hit) is _EncodeFailure:
            raise TransformError(hit.transform, hit.value, hit.reason)
        return hit

    def encoded(self, value: Any, system: str) -> Any:
        """``value``'s memoised encoding for ``system``, or ``_MISS`` when the memo has none (or holds a
        failure): the planner's and resolver's fast path, which leave misses to encode_fast."""
        t = type(value)
        if (t is str or t is int or t is bool) and self.cacheable:
            hit = self._encoded[system].get(value if t is str else (t, value), _MISS)
            if type(hit) is not _EncodeFailure:
                return hit
        return _MISS

    def holds(self, value: Any, native: Any, system: str, ctx: TransformContext) -> bool:
        """Whether ``native`` is ``value``'s encoding for ``system`` (False when it cannot be encoded)."""
        t = type(value)
        if (t is str or t is int or t is bool) and self.cacheable:
            # the encode memo, failures included: a memoised failure (common: a value map without a
            # default) answers False here instead of being raised and caught on every call
            hit = self._encoded[system].get(value if t is str else (t, value), _MISS)
            if hit is not _MISS:
                return type(hit) is not _EncodeFailure and bool(hit == native)
        try:
            return bool(self.encode_fast(value, system, ctx) == native)
        except TransformError:
            return False

    def encode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        """Unified -> native; None becomes the system's blank. Raises TransformError."""
        if value is None:
            return blank_for(system)
        for t in reversed(self.transforms):
            value = t.encode(value, system, ctx)
        return value


def _text(name: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise TransformError(name, value, "expected text")
    return value if isinstance(value, str) else str(value)


class Trim(Transform):
    """Strips surrounding whitespace so ' a@b.com ' and 'a@b.com' agree."""

    name = "trim"

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        return value.strip() if isinstance(value, str) else value


class Case(Transform):
    """Normalises letter case (lower, upper or title) for comparison and writing."""

    def __init__(self, mode: Literal["lower", "upper", "title"]) -> None:
        self.mode = mode
        self.name = mode  # type: ignore[misc]

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        if not isinstance(value, str):
            return value
        if self.mode == "lower":
            return value.casefold()
        return value.upper() if self.mode == "upper" else value.title()


@lru_cache(maxsize=65536)
def _e164(raw: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _nanp_fast(raw: str, region: str) -> str | None:
    """E.164 for plainly formatted North American numbers without the library (same result, 50x faster)."""
    if raw.isdigit() or (raw[:1] == "+" and raw[1:].isdigit()):
        digits = raw  # nothing to strip (the common E.164 form)
    else:  # strip the separators "( ) - . /" and spaces: chained replace is 2x faster than a regex here
        digits = (raw.replace(" ", "").replace("(", "").replace(")", "").replace("-", "").replace(".", "")
                  .replace("/", ""))
    if digits.startswith("+1"):
        digits = digits[2:]
    elif digits.startswith("+") or region not in ("US", "CA"):
        return None
    elif len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    if len(digits) == 10 and digits.isascii() and digits.isdigit() and digits[0] in "23456789":
        return "+1" + digits
    return None


class Phone(Transform):
    """Normalises phone numbers to E.164 with the phonenumbers library (default region from the file)."""

    name = "phone"

    def __init__(self, region: str = "US") -> None:
        self.region = region

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        raw = _text(self.name, value).strip()
        result = _nanp_fast(raw, self.region) or _e164(raw, self.region)
        if result is None:
            raise TransformError(self.name, value, f"not a possible phone number (default region {self.region})")
        return result


COUNTRY_ALIASES: Mapping[str, str] = {
    "usa": "US", "u.s.": "US", "u.s.a.": "US", "us": "US", "america": "US",
    "united states of america": "US", "uk": "GB", "u.k.": "GB", "great britain": "GB",
    "england": "GB", "scotland": "GB", "wales": "GB", "britain": "GB", "deutschland": "DE",
    "germany": "DE", "holland": "NL", "the netherlands": "NL", "españa": "ES", "espana": "ES",
    "schweiz": "CH", "suisse": "CH", "österreich": "AT", "osterreich": "AT", "italia": "IT",
    "brasil": "BR", "méxico": "MX", "nippon": "JP", "south korea": "KR", "korea": "KR",
    "russia": "RU", "czech republic": "CZ", "uae": "AE", "polska": "PL", "sverige": "SE",
    "norge": "NO", "danmark": "DK", "suomi": "FI", "éire": "IE", "belgië": "BE", "belgique": "BE",
}


@lru_cache(maxsize=4096)
def _country(raw: str, fmt: str) -> str | None:
    key = raw.strip().casefold()
    code = COUNTRY_ALIASES.get(key)
    try:
        found = pycountry.countries.get(alpha_2=code) if code else pycountry.countries.lookup(raw.strip())
    except LookupError:
        return None
    if found is None:
        return None
    if fmt == "alpha2":
        return str(found.alpha_2)
    if fmt == "alpha3":
        return str(found.alpha_3)
    return str(getattr(found, "common_name", None) or found.name)


class Country(Transform):
    """Canonicalises country names and codes with pycountry (USA, US, United States -> one form)."""

    name = "country"

    def __init__(self, fmt: CountryFormat = "name") -> None:
        self.fmt = fmt

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        result = _country(_text(self.name, value), self.fmt)
        if result is None:
            raise TransformError(self.name, value, "not a known country name or ISO code")
        return result


_DAY_MS = 86_400_000


def _parse_instant(name: str, value: Any) -> datetime:
    """Reads epoch ms (number or digit string), ISO datetimes and YYYY-MM-DD as a UTC instant."""
    if isinstance(value, bool):
        raise TransformError(name, value, "expected a date")
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = _text(name, value).strip()
    if re.fullmatch(r"[+-]\d{4}", text[-5:]) and text[-5] in "+-" and ":" not in text[-5:]:
        text = text[:-2] + ":" + text[-2:]  # Salesforce "+0000" -> "+00:00"
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise TransformError(name, value, "expected epoch ms, YYYY-MM-DD or an ISO 8601 datetime") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class DateValue(Transform):
    """Dates: HubSpot ms/ISO/date strings and Salesforce YYYY-MM-DD meet as 'YYYY-MM-DD'."""

    name = "date"

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        return _parse_instant(self.name, value).date().isoformat()

    def encode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        if system == "hubspot":  # HubSpot date properties take midnight UTC in epoch ms
            day = date.fromisoformat(value)
            return str(int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000)
        return value


class DateTimeValue(Transform):
    """Datetimes meet as epoch ms; HubSpot gets a ms string, Salesforce an ISO datetime with +0000."""

    name = "datetime"

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        instant = _parse_instant(self.name, value)
        return int(round(instant.timestamp() * 1000))

    def encode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        if system == "hubspot":
            return str(value)
        instant = datetime.fromtimestamp(value / 1000, tz=UTC)
        return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value % 1000:03d}+0000"


def _decimal(name: str, value: Any) -> Decimal:
    if isinstance(value, bool):
        raise TransformError(name, value, "expected a number")
    if isinstance(value, Decimal):
        return value
    try:
        text = (value.strip().replace(",", "") if isinstance(value, str)
                else repr(value) if isinstance(value, float) else str(value))
        result = Decimal(text)
    except (InvalidOperation, AttributeError) as exc:
        raise TransformError(name, value, "expected a number") from exc
    if not result.is_finite():
        raise TransformError(name, value, "expected a finite number")
    return result


class Number(Transform):
    """Numbers and currency: HubSpot strings and Salesforce numbers meet as Decimal (optional places)."""

    name = "number"

    def __init__(self, decimals: int | None = None) -> None:
        self.decimals = decimals
        self._quantum = Decimal(1).scaleb(-decimals) if decimals is not None else None

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        result = _decimal(self.name, value)
        if self._quantum is not None:
            result = result.quantize(self._quantum)
        return result.to_integral_value() if result == result.to_integral_value() else result

    def encode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        number = Decimal(value)
        integral = number == number.to_integral_value()
        if system == "hubspot":
            return str(int(number)) if integral else format(number, "f")
        return int(number) if integral else float(number)


class Integer(Transform):
    """Whole numbers: '12' and 12.0 meet as int 12."""

    name = "integer"

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        number = _decimal(self.name, value)
        if number != number.to_integral_value():
            raise TransformError(self.name, value, "expected a whole number")
        return int(number)

    def encode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        return str(value) if system == "hubspot" else int(value)


_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})


class Boolean(Transform):
    """Booleans: HubSpot "true"/"false" and Salesforce true/false meet as bool."""

    name = "boolean"

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        if isinstance(value, bool):
            return value
        text = str(value).strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise TransformError(self.name, value, 'expected "true" or "false"')

    def encode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        return ("true" if value else "false") if system == "hubspot" else bool(value)


class Owner(Transform):
    """Owners meet as the owner's lower-case email, looked up in the OwnerDirectory of each system."""

    name = "owner"

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        email = ctx.owners.email_of(system, _text(self.name, value).strip())
        if email is None:
            raise TransformError(self.name, value, f"no {system} owner with this id in the owner directory")
        return email

    def encode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        owner_id = ctx.owners.id_of(system, value)
        if owner_id is None:
            raise TransformError(self.name, value, f"no {system} owner has this email; add the user in {system}")
        return owner_id


class ValueMap(Transform):
    """Picklist <-> enumeration map; the unified form is HubSpot's value, with defaults for unmapped values."""

    name = "map"

    def __init__(
        self,
        to_salesforce: Mapping[str, str],
        to_hubspot: Mapping[str, str],
        default_to_salesforce: str | None = None,
        default_to_hubspot: str | None = None,
    ) -> None:
        self.to_salesforce = dict(to_salesforce)
        self.to_hubspot = dict(to_hubspot)
        self.default_to_salesforce = default_to_salesforce
        self.default_to_hubspot = default_to_hubspot

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        if system == "hubspot":
            return value
        return self._lookup(self.to_hubspot, self.default_to_hubspot, value, "to_hubspot")

    def encode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        if system == "hubspot":
            return value
        return self._lookup(self.to_salesforce, self.default_to_salesforce, value, "to_salesforce")

    def _lookup(self, table: Mapping[str, str], default: str | None, value: Any, label: str) -> str:
        key = value if isinstance(value, str) else str(value)
        found = table.get(key, default)
        if found is None:
            raise TransformError(self.name, value, f"not in the {label} value map and no default_{label}")
        return found


class EmployeeRange(Transform):
    """HubSpot numemployees ranges <-> Salesforce NumberOfEmployees; a count maps to its range.

    HubSpot's ranges share their ends ("1-5", "5-25"), so a count on a boundary fits two of them: it
    decodes to the lower one ("1-5" holds 1 to 5, as HubSpot's own buckets are filled), and a range is
    written to Salesforce as its lower end (5 for "5-25"), which the resolver then sees as agreeing with
    "5-25" as well (Salesforce already holds what "5-25" encodes to). 5 and "1-5" or "5-25" are never a
    conflict.
    """

    name = "employee_range"
    _BOUNDS: ClassVar[tuple[tuple[int, str], ...]] = (
        (5, "1-5"), (25, "5-25"), (50, "25-50"), (100, "50-100"), (500, "100-500"), (1000, "500-1000"),
    )

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        if system == "hubspot":
            text = _text(self.name, value).strip()
            if text not in EMPLOYEE_RANGES:
                raise TransformError(self.name, value, f"not one of {', '.join(EMPLOYEE_RANGES)}")
            return text
        count = Integer().decode(value, system, ctx)
        for upper, label in self._BOUNDS:
            if count <= upper:
                return label
        return "1000+"

    def encode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        if system == "hubspot":
            return value
        return int(str(value).split("-")[0].rstrip("+"))


class StageMap(Transform):
    """Deal stage <-> Opportunity StageName, one map per HubSpot pipeline (the context names it)."""

    name = "stage"

    def __init__(self, pipelines: Mapping[str, ValueMap]) -> None:
        self.pipelines = dict(pipelines)

    def _map(self, value: Any, ctx: TransformContext) -> ValueMap:
        found = self.pipelines.get(ctx.pipeline)
        if found is None:
            raise TransformError(self.name, value, f"no stage map for pipeline {ctx.pipeline!r}")
        return found

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        return self._map(value, ctx).decode(value, system, ctx)

    def encode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        return self._map(value, ctx).encode(value, system, ctx)


def _utf16_units(text: str) -> int:
    """The length Salesforce counts (Java's String.length(): UTF-16 code units), never less than len()."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


class Truncate(Transform):
    """Cuts text to ``max_length`` characters when it is written (to either system), so a long HubSpot
    value fits a shorter Salesforce field instead of being refused (STRING_TOO_LONG) and parked.

    Only writing cuts: values are compared as they are, and a side that already holds the cut form of
    the other side's value agrees with it (nothing is written, and the longer value stays where it is).
    Characters are counted as Salesforce counts them (UTF-16 code units), and trailing blanks left by
    the cut are dropped, as Salesforce drops them on save.
    """

    name = "truncate"

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length

    def encode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        if not isinstance(value, str) or (len(value) <= self.max_length and _utf16_units(value) <= self.max_length):
            return value
        out: list[str] = []
        units = 0
        for ch in value:
            units += 2 if ord(ch) > 0xFFFF else 1
            if units > self.max_length:
                break
            out.append(ch)
        return "".join(out).rstrip()


_SCHEME = re.compile(r"^(?:https?:)?//", re.IGNORECASE)


def url_key(text: str) -> str:
    """A web address without what only formats it: the http(s) scheme, a leading ``www.``, the host's
    letter case, a default port and trailing slashes (``https://www.X.com/`` and ``x.com`` give ``x.com``).
    The path, query and fragment keep their case: servers may tell them apart."""
    rest = _SCHEME.sub("", text.strip())
    cut = len(rest)
    for sep in "/?#":
        at = rest.find(sep)
        if 0 <= at < cut:
            cut = at
    host, tail = rest[:cut].casefold().rstrip("."), rest[cut:]
    host = host.removeprefix("www.")
    if host.endswith((":80", ":443")):
        host = host.rsplit(":", 1)[0]
    return host + (tail.rstrip("/") if tail[:1] == "/" else tail)


class UrlText(str):
    """A web address in unified form: its own text (what is written), compared by ``url_key``.

    Two UrlTexts are equal when they differ only in formatting, so ``www.x.com`` and
    ``https://www.x.com/`` agree and neither side is overwritten; written, each is its own full text.
    """

    key: str

    def __new__(cls, text: str, key: str) -> Self:
        made = str.__new__(cls, text)
        made.key = key
        return made

    def __eq__(self, other: object) -> bool:
        if isinstance(other, UrlText):
            return self.key == other.key
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self.key)

    def __reduce__(self) -> tuple[Any, ...]:
        return (UrlText, (str(self), self.key))


class Url(Transform):
    """Web addresses: formatting (scheme, ``www.``, host case, trailing slash) is never a conflict.

    The unified value is a ``UrlText``: the address as one side holds it, equal to any other spelling
    of the same address. Sides that agree keep what they hold; a value that is written (to a blank
    side, or because the rule chose it) is written as its system holds it, never shortened.
    """

    name = "url"

    def decode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        text = _text(self.name, value).strip()
        return UrlText(text, url_key(text))

    def encode(self, value: Any, system: str, ctx: TransformContext) -> Any:
        return str.__str__(value) if isinstance(value, str) else value


# Names a mapping file may list in ``transforms``; "map" and "stage" are built from their tables.
TRANSFORM_NAMES: tuple[str, ...] = (
    "trim", "lower", "upper", "title", "phone", "country", "date", "datetime", "number", "integer",
    "boolean", "owner", "employee_range", "map", "truncate", "url",
)

# Transforms whose decode ignores the system: chains made only of these share one decode memo.
_SYSTEM_FREE_DECODE: frozenset[type] = frozenset(
    {Transform, Trim, Case, Phone, Country, DateValue, DateTimeValue, Number, Integer, Boolean, Truncate, Url}
)
