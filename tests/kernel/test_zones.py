"""Zone rules come from the pinned `tzdata` package, never from the host's zone files.

`zoneinfo` reads the host's files (TZPATH) first; hosts carry other IANA releases than
the one the project pins, so without the kernel's reset the same series is planned
differently on different machines. The subprocess tests give the child a host path
holding a deliberately wrong Europe/London (Asia/Tokyo's rules) and a zone tzdata does
not have, so they prove the point on any machine; the in-process tests compare every
zone the bot sees with the package's own files.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import pytest
import tzdata

from bot.kernel.zones import zone, zone_data_version

ROOT = Path(__file__).resolve().parents[2]
LONDON_OFFSETS = [0.0, 1.0]  # hours east of UTC in January and July: GMT, BST
TOKYO_OFFSETS = [9.0, 9.0]


def _package_file(name: str) -> Traversable:
    path = resources.files("tzdata.zoneinfo")
    for part in name.split("/"):
        path = path.joinpath(part)
    return path


def _package_zone(name: str) -> ZoneInfo:
    """`name` read straight from the tzdata package's file, bypassing every search path."""
    with _package_file(name).open("rb") as file:
        return ZoneInfo.from_file(file, key=name)


def _package_zone_names() -> set[str]:
    listing = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return {line.strip() for line in listing.splitlines() if line.strip()} - {"posixrules"}


# --- in process: what the bot sees is the package ---------------------------------------


def test_zone_data_is_the_pinned_tzdata_release() -> None:
    assert zone_data_version() == tzdata.IANA_VERSION
    # The package's zone source names its release on its first line.
    header = _package_file("tzdata.zi").read_text(encoding="utf-8").splitlines()[0]
    assert header == f"# version {tzdata.IANA_VERSION}"
    # ... and the installed package is the one requirements/run.txt pins.
    pins = re.findall(r"^tzdata==(\S+)", (ROOT / "requirements" / "run.txt").read_text(), re.M)
    assert pins == [tzdata.__version__]


# Zones groups are likely to use, and those whose rules changed between recent releases
# (a host's 2025b and the package's 2026f differ in Casablanca, Havana, Chisinau and
# western Canada): checked every day of the planning horizon, every other zone monthly.
WATCHED_ZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Berlin",
    "America/New_York",
    "America/Vancouver",
    "America/Edmonton",
    "America/Winnipeg",
    "America/Havana",
    "America/Santiago",
    "America/Sao_Paulo",
    "Africa/Casablanca",
    "Europe/Chisinau",
    "Asia/Jerusalem",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
)


def _differing_zones(names: list[str], instants: list[datetime]) -> list[str]:
    differing = []
    for name in names:
        ours, package = zone(name), _package_zone(name)
        for instant in instants:
            mine, theirs = instant.astimezone(ours), instant.astimezone(package)
            if (mine.utcoffset(), mine.tzname()) != (theirs.utcoffset(), theirs.tzname()):
                differing.append(name)
                break
    return differing


def test_zones_groups_use_have_the_rules_of_the_tzdata_package() -> None:
    start = datetime(2024, 1, 1, 12, tzinfo=UTC)
    days = [start + timedelta(days=n) for n in range(13 * 366)]
    assert _differing_zones(list(WATCHED_ZONES), days) == []


def test_every_zone_has_the_rules_of_the_tzdata_package() -> None:
    months = [
        datetime(year, month, 1, tzinfo=UTC) for year in range(2024, 2037) for month in range(1, 13)
    ]
    assert _differing_zones(sorted(_package_zone_names()), months) == []


def test_the_zone_list_is_the_tzdata_package_list() -> None:
    assert available_timezones() == _package_zone_names()


# --- in a child process whose host zone files are wrong ---------------------------------


_CHILD = """
import importlib, json, sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

def hours(zone):
    return [datetime(2026, m, 15, 12, tzinfo=UTC).astimezone(zone).utcoffset().total_seconds()
            / 3600 for m in (1, 7)]

early = ZoneInfo("Europe/London")  # built from the host's files, before the bot's code
importlib.import_module(sys.argv[1])
# What code that builds zones itself sees once that module is imported:
seen = {
    "early": hours(early),
    "zoneinfo": hours(ZoneInfo("Europe/London")),
    "mars_listed": "Mars/Olympus" in available_timezones(),
}
from bot.kernel.zones import InvalidTimeZone, parse_zone, zone
seen["zone"] = hours(zone("Europe/London"))
seen["parse_zone"] = hours(parse_zone("europe/london"))
try:
    parse_zone("Mars/Olympus")
    seen["mars_refused"] = False
except InvalidTimeZone:
    seen["mars_refused"] = True
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def wrong_host_zone_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zone directory as a host might have it, but wrong: its Europe/London holds
    Asia/Tokyo's rules, and it has a Mars/Olympus that tzdata does not."""
    root = tmp_path_factory.mktemp("host-zoneinfo")
    tokyo = _package_file("Asia/Tokyo").read_bytes()
    for name in ("Europe/London", "Mars/Olympus"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(tokyo)
    return root


def _run_child(module: str, host_zone_files: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONTZPATH": str(host_zone_files), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", _CHILD, module],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize(
    "module",
    [
        "bot.kernel.zones",
        "bot.sessions.recurrence",
        "bot.kernel.clock",
        "bot.kernel",
    ],
)
def test_importing_the_kernel_makes_every_zone_come_from_tzdata(
    module: str, wrong_host_zone_files: Path
) -> None:
    seen = _run_child(module, wrong_host_zone_files)
    # The child really had the wrong host files: a zone built before the kernel was
    # imported read them (and keeps its rules; the bot builds none that early).
    assert seen["early"] == TOKYO_OFFSETS
    # After the import, every way of building London gives London's rules from tzdata,
    # including `ZoneInfo(...)` called directly (its cached host copy was dropped).
    assert seen["zoneinfo"] == LONDON_OFFSETS
    assert seen["zone"] == LONDON_OFFSETS
    assert seen["parse_zone"] == LONDON_OFFSETS
    # The zone list is tzdata's: a zone only the host has is neither listed nor accepted.
    assert seen["mars_listed"] is False
    assert seen["mars_refused"] is True
