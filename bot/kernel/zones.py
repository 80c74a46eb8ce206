"""Time zones: IANA names read from the pinned `tzdata` package, checked and suggested.

The rules of every zone come from the `tzdata` package the project pins, never from the
host's zone files, so a series is planned the same on every machine. `zoneinfo` looks in
the host's files (its TZPATH) first and in `tzdata` only for what they lack; importing
this module empties TZPATH for the whole process (`use_tzdata_only`), so `zone(name)`,
and `ZoneInfo(name)` wherever it is called, read `tzdata` alone.

Also the base of every refusal about dates and times a user typed (`SchedulingError`),
since a wrong zone name is the first such refusal a group meets.
"""

from __future__ import annotations

import difflib
import importlib
import zoneinfo
from collections.abc import Iterator
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo, available_timezones

from bot.kernel.errors import Refusal

MAX_ZONE_SUGGESTIONS: Final = 5

# Entries of the zone database that are not places a group could be in: "localtime" is a
# copy of the host's own zone on some systems, "Factory" is a placeholder that reads "-00".
_NOT_GROUP_ZONES: Final = frozenset({"localtime", "Factory", "posixrules"})
# Current "Area/Place" names are what people should pick; legacy aliases such as "GB",
# "US/Eastern" or "Etc/GMT+5" (whose sign is inverted) still work but are offered last.
_PREFERRED_AREAS: Final = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Arctic/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)
# What autocomplete offers before anything is typed: the zones most groups are likely to
# use, rather than the alphabetical start of the list (Africa/Abidjan, Africa/Accra ...).
_COMMON_ZONES: Final = (
    "Europe/London",
    "Europe/Dublin",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Vancouver",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Zurich",
    "Europe/Stockholm",
    "Europe/Helsinki",
    "Australia/Sydney",
    "Australia/Melbourne",
    "Australia/Perth",
    "Pacific/Auckland",
    "Asia/Jerusalem",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "America/Sao_Paulo",
    "Africa/Johannesburg",
    "UTC",
)
# How alike (difflib ratio) a typo must be to a zone name to be suggested: 0.7 keeps
# "Londn" -> London and "Sydny" -> Sydney but drops look-alikes such as Paris -> Davis.
_SIMILARITY_CUTOFF: Final = 0.7


class SchedulingError(Refusal, ValueError):
    """A date, time or time zone a user typed cannot be used; the refusal says what to
    type instead, in one or two sentences a leader can act on without help."""


class InvalidTimeZone(SchedulingError):
    """The text is not the name of an IANA time zone."""

    def __init__(self, name: str, suggestions: tuple[str, ...]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = ", ".join(f"`{zone}`" for zone in suggestions) or "`Europe/London`"
        super().__init__(
            f"**{{name}}** is not a time zone I know. Did you mean {hint}? "
            "Time zones are written like `Europe/London` or `America/New_York`.",
            name=name,
        )


# --- the zone database ----------------------------------------------------------------


def use_tzdata_only() -> None:
    """Make the pinned `tzdata` package the one source of zone rules in this process.

    An empty TZPATH leaves `zoneinfo` nothing but `tzdata` to read, here, in the rest of
    the bot and in libraries alike; `available_timezones()` then lists `tzdata`'s zones
    only. Clearing `ZoneInfo`'s cache drops zones built from the host's files before
    this ran, so the next `ZoneInfo(name)` reads `tzdata`. A zone object built earlier
    and still held somewhere keeps its old rules; this runs when the module is imported,
    before the bot builds any.
    """
    zoneinfo.reset_tzpath(to=())
    ZoneInfo.clear_cache()


use_tzdata_only()


def zone(name: str) -> ZoneInfo:
    """The zone with the exact IANA key `name`, with the rules of the pinned `tzdata`.

    Every zone the bot builds from a stored name should come from here: importing this
    function is what guarantees `use_tzdata_only` ran first. A name `tzdata` does not
    have raises `zoneinfo.ZoneInfoNotFoundError`; text a user typed goes to `parse_zone`.
    """
    return ZoneInfo(name)


@cache
def zone_data_version() -> str:
    """The IANA release of the zone rules in use, such as "2026f" (`tzdata.IANA_VERSION`)."""
    return str(importlib.import_module("tzdata").IANA_VERSION)


# --- time zones ------------------------------------------------------------------------


def parse_zone(name: str) -> ZoneInfo:
    """The zone a leader named, or `InvalidTimeZone` with up to five suggestions.

    Matching ignores letter case and treats spaces as underscores, because people type
    "europe/london" or "America/New York" and mean exactly one zone; the returned zone's
    ``key`` is the canonical spelling, which is what should be stored. Only names in the
    zone database are looked up, so arbitrary text never reaches the file system.
    """
    canonical = _zones_by_folded_name().get(_fold(name))
    if canonical is None:
        raise InvalidTimeZone(name, tuple(suggest_zones(name, limit=MAX_ZONE_SUGGESTIONS)))
    return zone(canonical)


def suggest_zones(text: str, limit: int = 25) -> list[str]:
    """Zone names for autocomplete and for "did you mean", best first.

    Ranking, each tier before the next: exact match, names starting with the text, names
    with a part starting with the text ("london" finds Europe/London), names containing
    it, then names that look similar (typos such as "Europe/Londn"). Within a tier current
    "Area/Place" names come before legacy aliases. Empty text gives commonly used zones
    so the first autocomplete list is useful. 25 is Discord's autocomplete maximum.
    """
    if limit <= 0:
        return []
    query = _fold(text)
    if not query:
        return list(_COMMON_ZONES[:limit])
    suggestions: list[str] = []
    for name in _ranked_matches(query):
        if name not in suggestions:
            suggestions.append(name)
            if len(suggestions) == limit:
                break
    return suggestions


def _ranked_matches(query: str) -> Iterator[str]:
    """Zone names matching `query` tier by tier; similarity is computed only if needed."""
    by_folded_name = _zones_by_folded_name()
    if query in by_folded_name:
        yield by_folded_name[query]
    yield from (name for folded, name in by_folded_name.items() if folded.startswith(query))
    yield from (
        name
        for folded, name in by_folded_name.items()
        if any(part.startswith(query) for part in folded.split("/"))
    )
    yield from (name for folded, name in by_folded_name.items() if query in folded)
    yield from _similar_zone_names(query)


def _similar_zone_names(query: str) -> list[str]:
    """Names resembling `query` as a whole or in their last part, most similar first."""
    query_last_part = query.rsplit("/", 1)[-1]
    scored: list[tuple[float, int, str]] = []
    for position, (folded, name) in enumerate(_zones_by_folded_name().items()):
        similarity = max(
            _similarity(query, folded),
            _similarity(query_last_part, folded.rsplit("/", 1)[-1]),
        )
        if similarity >= _SIMILARITY_CUTOFF:
            scored.append((-similarity, position, name))
    return [name for _, _, name in sorted(scored)]


def _similarity(text: str, name: str) -> float:
    """`SequenceMatcher.ratio()`, or 0 when its cheap upper bounds already fall short of
    the cutoff (as `difflib.get_close_matches` does): the full ratio takes time in
    proportion to the product of the lengths, so without them a few thousand characters
    typed as a zone would keep the answer past Discord's 3 seconds."""
    matcher = difflib.SequenceMatcher(None, text, name)
    if matcher.real_quick_ratio() < _SIMILARITY_CUTOFF:
        return 0.0
    if matcher.quick_ratio() < _SIMILARITY_CUTOFF:
        return 0.0
    return matcher.ratio()


@cache
def _zone_names() -> tuple[str, ...]:
    """Every usable zone name, current "Area/Place" names first, then alphabetical.

    Cached because scanning the zone database takes milliseconds and autocomplete asks
    on every keystroke. With TZPATH empty these are the names `tzdata` has.
    """
    names = available_timezones() - _NOT_GROUP_ZONES
    return tuple(sorted(names, key=lambda name: (not _is_preferred(name), name)))


@cache
def _zones_by_folded_name() -> dict[str, str]:
    """Canonical names keyed by their case-folded spelling, in `_zone_names` order."""
    return {_fold(name): name for name in _zone_names()}


def _is_preferred(name: str) -> bool:
    return name == "UTC" or name.startswith(_PREFERRED_AREAS)


def _fold(text: str) -> str:
    return "_".join(text.split()).casefold()
