"""The kill test, many times: the bot is killed with SIGKILL at random moments during a
burst of reminders, case notes, reflections and rota changes, restarted, and checked.

Each run sets up a fresh server through the bot's commands, starts the bot as a child
process on a clock `--speed` times faster than real time, kills it `--kills` times
(at a seeded random moment: a share `--startup-kills` while it starts, the others within
`--kill-window` real seconds after it connected) while
members act and reminders fall due, lets the last life finish, stops it with SIGTERM,
and checks what users saw against what the database holds (`tests/killtest/`). Prints
per run and in total:

- sent: scheduled messages (reminders, reflection invitations) delivered once;
- duplicated: extra copies of one; lost: scheduled messages missing, and actions the
  user saw confirmed that are gone;
- half-written: rows that do not decrypt, changes only partly there, derived data out
  of step, jobs given up;
- unanswered: interactions and DMs the bot never answered because it died (Discord's
  "This interaction failed"); what they did may be absent, never half;
- kills (and how many landed before the bot had connected), and retries that Discord
  collapsed into the message already sent (`collapsed`, the nonce at work).

Run: `.venv/bin/python -m bench.killtest --runs 20` (`--seed`, `--kills`, `--speed`,
`--keep` to keep each run's database and logs). Exits 1 if any run was not clean.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.killtest.checks import Counts
from tests.killtest.harness import RunConfig, RunResult, run_once
from tests.killtest.world import Shape

COLUMNS = (
    ("sent", 6),
    ("duplicated", 10),
    ("lost", 5),
    ("half_written", 12),
    ("unanswered", 10),
    ("kills", 5),
    ("kills_before_ready", 11),
    ("confirmed", 9),
    ("actions", 7),
    ("collapsed", 9),
)
HEADINGS = {"half_written": "half-written", "kills_before_ready": "at startup"}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.killtest", description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1, help="seed of the first run")
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs per run")
    parser.add_argument("--speed", type=float, default=60.0, help="simulated s per real s")
    parser.add_argument("--sessions", type=int, default=12, help="sessions per reminder group")
    parser.add_argument(
        "--kill-window",
        type=float,
        nargs=2,
        default=(0.1, 2.5),
        metavar=("MIN", "MAX"),
        help="real seconds after the bot connected within which it is killed",
    )
    parser.add_argument(
        "--startup-kills", type=float, default=0.2, help="share of kills while the bot starts"
    )
    parser.add_argument("--keep", action="store_true", help="keep each run's files")
    parser.add_argument(
        "--nonce-window",
        type=float,
        default=None,
        help="real seconds the double honours a nonce (default 300, like Discord)",
    )
    parser.add_argument(
        "--break",
        dest="breakage",
        default="",
        help="run a deliberately broken bot to see the checks fail: nonce, done-first, split",
    )
    return parser.parse_args(argv)


def row(label: str, counts: Counts, seconds: float) -> str:
    cells = [f"{getattr(counts, name):>{width}}" for name, width in COLUMNS]
    return f"{label:>6} " + " ".join(cells) + f" {seconds:>7.1f}"


def heading() -> str:
    cells = [f"{HEADINGS.get(name, name):>{width}}" for name, width in COLUMNS]
    return f"{'run':>6} " + " ".join(cells) + f" {'seconds':>7}"


async def run_all(options: argparse.Namespace) -> Counts:
    total = Counts()
    started = time.monotonic()
    print(heading(), flush=True)
    for number in range(options.runs):
        config = RunConfig(
            seed=options.seed + number,
            kills=options.kills,
            speed=options.speed,
            kill_window=(options.kill_window[0], options.kill_window[1]),
            startup_kills=options.startup_kills,
            shape=Shape(reminder_sessions=options.sessions),
            breakage=options.breakage,
            nonce_window=options.nonce_window,
        )
        workdir = Path(tempfile.mkdtemp(prefix=f"killtest-{config.seed}-"))
        result: RunResult = await run_once(config, workdir)
        total.add(result.counts)
        print(row(str(config.seed), result.counts, result.seconds), flush=True)
        for problem in result.counts.problems[:10]:
            print(f"       {problem}")
        if options.keep or not result.counts.clean:
            print(f"       files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(row("total", total, time.monotonic() - started))
    print(
        f"errors logged {total.errors_logged}, confidential text in logs {total.leaked}, "
        f"protocol errors {total.protocol_errors}, crashes {total.crashes}; "
        "follow-ups missing after a confirmed action (sent after the answer, outside the "
        f"job path): leaders' case notices {total.case_notices_missing}, swap requests "
        f"{total.swap_requests_missing}"
    )
    return total


def main(argv: list[str] | None = None) -> int:
    total = asyncio.run(run_all(parse(argv)))
    return 0 if total.clean else 1


if __name__ == "__main__":
    sys.exit(main())
