"""Speed against what discord.py itself costs: the project's bot next to a bare bot.

Both bots are `commands.AutoShardedBot`s run, each in a process of its own
(`bench.speed_bots`), against the project's test double of Discord, which runs here. The
bare bot answers one slash command with fixed text and has one button that edits its
message and sends a private follow-up (what an RSVP does on Discord's side); see
`bench/speed_bots.py`. Rounds are interleaved (bare then project, project then bare, ...)
and each figure is printed as the median over the rounds of the per-round ratio, next to
the medians of the raw figures.

- Commands (`/rota show`, `/session list`, `/case view` by a leader, an RSVP button
  press): sequentially (round-trip median and 99th percentile, from the double sending
  INTERACTION_CREATE to the bot's first callback reaching it; CPU per call, the bot
  process's own `time.process_time()` over the calls, which holds every thread of that
  process and nothing of the double's), then CONCURRENT at once (wall time from the
  first INTERACTION_CREATE to the last answer, follow-ups included).
- Start to ready (from constructing the bot to `on_ready`; its imports timed apart) and
  memory (VmRSS once ready), each in a fresh process: 1 server; SERVERS servers of
  MEMBERS members; and the same servers with GROUPS groups holding REMINDERS pending
  reminders (the bare bot has no groups: its figure is the one with the servers alone).

The double's OpenAPI validation is off here (the end-to-end tests run it on every request
and answer): it costs the double more than the bots cost themselves, and would slow every
round-trip by the same amount for both bots. `--validate` turns it back on.

Run: `.venv/bin/python -m bench.speed` (options: `--help`); `--profile DIR` writes one
cProfile file per command and bot (`python -m pstats DIR/rota-show.project.prof`), and
one per start scenario and bot, by the wall clock (`DIR/start-one-server.project.prof`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.reminders import seed
from bench.speed_bots import START_UNIX
from tests.double import Channel, DiscordDouble, Guild, Interaction, Message, User
from tests.double.driver import OptionBuilder, command_data, component_data, resolve_command

START = datetime.fromtimestamp(START_UNIX, UTC)
NOTE = "A patient who keeps coming back with the same worry, and how tired I feel after."
WAIT = 30.0  # seconds: the most any one wait here may take before the run is abandoned


# -- the bot processes -------------------------------------------------------------------


@dataclass
class BotProcess:
    """A bot in its own process (`bench.speed_bots`), spoken to over its stdin/stdout."""

    kind: str
    process: asyncio.subprocess.Process
    ready: dict[str, Any]
    spawn_to_ready: float

    async def ask(self, request: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(request.encode() + b"\n")
        await self.process.stdin.drain()
        answer: dict[str, Any] = json.loads(await self.process.stdout.readline())
        return answer

    def cpu(self) -> float:
        """CPU seconds the process has had so far, every thread of it, as the kernel
        accounts them (`/proc/PID/task/*/schedstat`, what `time.process_time()` reads
        inside it): read from here, so that measuring costs the bot nothing."""
        total = 0
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):  # a thread that just ended
                total += int((task / "schedstat").read_text().split()[0])
        return total / 1e9

    async def quit(self) -> None:
        await self.ask("quit")
        await asyncio.wait_for(self.process.wait(), WAIT)


async def spawn(
    kind: str,
    double: DiscordDouble,
    *,
    database: Path | None = None,
    button_channel: int | None = None,
    answers: Path | None = None,
    clock: str = "manual",
    profile_start: Path | None = None,
) -> BotProcess:
    """Start a bot process against `double`; return once it is ready."""
    arguments = [kind, double.api_base, double.gateway.url, double.token, "--clock", clock]
    if profile_start is not None:
        arguments += ["--profile-start", str(profile_start)]
    if database is not None:
        arguments += ["--database", str(database)]
    if button_channel is not None:
        arguments += ["--button-channel", str(button_channel)]
    if answers is not None:
        arguments += ["--answers", str(answers)]
    environment, root = BOT_ENVIRONMENT, None
    if kind == "project" and PROJECT_ROOT is not None:
        root = PROJECT_ROOT
        environment = {**BOT_ENVIRONMENT, "PYTHONPATH": str(root)}
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.speed_bots",
        *arguments,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=environment,
        cwd=root,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), WAIT)
    if not line:
        raise RuntimeError(f"the {kind} bot stopped before it was ready")
    return BotProcess(kind, process, json.loads(line), time.perf_counter() - started)


BOT_ENVIRONMENT = {
    name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"
}
"""The bots' processes keep their modules' compiled bytecode, as an installed bot does
(in a folder of their own, `use_bytecode_cache`), even where the environment asks Python
not to write it: otherwise every start of the project's bot compiles its modules again,
which the bare bot, made of installed packages only, never does."""


def use_bytecode_cache(folder: Path) -> None:
    BOT_ENVIRONMENT["PYTHONPYCACHEPREFIX"] = str(folder)


PROJECT_ROOT: Path | None = None
"""Where the project's bot runs from (`--project-root`): another checkout of it, such as
an earlier commit (`git archive COMMIT | tar -x -C DIR`), to compare with."""


def use_project_root(root: Path) -> None:
    """Run the project's bot from `root`, with this checkout's `bench/speed_bots.py`."""
    global PROJECT_ROOT
    PROJECT_ROOT = root.resolve()
    shutil.copy(Path(__file__).with_name("speed_bots.py"), PROJECT_ROOT / "bench")


def without_validation(double: DiscordDouble) -> DiscordDouble:
    """Turn off the double's schema validation (see the module's docstring)."""
    openapi, gateway = double.openapi, double.gateway
    openapi.validate_query = lambda *_: []  # type: ignore[method-assign]
    openapi.validate_request_body = lambda *_: []  # type: ignore[method-assign]
    openapi.validate_response = lambda *_: []  # type: ignore[method-assign]
    gateway.check = lambda *_: None  # type: ignore[method-assign]
    return double


def new_double(validate: bool) -> DiscordDouble:
    double = DiscordDouble(clock=time.perf_counter, now=lambda: START)
    return double if validate else without_validation(double)


# -- the commands measured ---------------------------------------------------------------


@dataclass
class Operation:
    """One thing a user does, sent the way Discord sends it; done once the bot has given
    its first answer and `followups` follow-ups."""

    name: str
    send: Callable[[int], Interaction]
    followups: int = 0


def done_at(interaction: Interaction, followups: int) -> float | None:
    """When the double had every answer to `interaction`, or None if not yet."""
    if not interaction.attempts or len(interaction.followups) < followups:
        return None
    last = interaction.followups[followups - 1].created_at if followups else 0.0
    return max(interaction.attempts[0].at, last)


async def wait_done(double: DiscordDouble, sent: list[Interaction], followups: int) -> float:
    """Wait for every interaction of `sent` to be answered; return when the last was."""
    pending = list(sent)
    finished: list[float] = []

    def probe() -> bool | None:
        nonlocal pending
        still = []
        for interaction in pending:
            at = done_at(interaction, followups)
            if at is None:
                still.append(interaction)
            else:
                finished.append(at)
        pending = still
        return True if not pending else None

    await double.changes.wait_for(probe, timeout=WAIT, what="the bot's answers")
    return max(finished)


def slash_sender(
    double: DiscordDouble, command: str, user: User, guild: Guild, channel: Channel
) -> Callable[[int], Interaction]:
    """INTERACTION_CREATE for `/command` by `user` (built once, sent with a new id and
    token each time)."""
    resolved = resolve_command(double, command, guild)
    builder = OptionBuilder(double, guild, user, command)
    data = command_data(resolved, builder.build(resolved.parameters, {}), guild, builder)

    def send(_: int) -> Interaction:
        return double._send_interaction(2, copy.deepcopy(data), user, channel, command=command)

    return send


def click_sender(
    double: DiscordDouble, message: Message, custom_id: str, users: list[User]
) -> Callable[[int], Interaction]:
    """A press of the button `custom_id` on `message`, by each of `users` in turn."""
    data = component_data(message, custom_id, None)
    channel = double.channels[message.channel_id]

    def send(index: int) -> Interaction:
        user = users[index % len(users)]
        return double._send_interaction(
            3, copy.deepcopy(data), user, channel, source=message, custom_id=custom_id
        )

    return send


@dataclass
class Sequential:
    """One bot's sequential calls of one round."""

    round_trips: list[float] = field(default_factory=list)
    cpu: float = 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.round_trips)

    @property
    def p99(self) -> float:
        return statistics.quantiles(self.round_trips, n=100, method="inclusive")[98]

    @property
    def cpu_per_call(self) -> float:
        return self.cpu / len(self.round_trips)


async def run_calls(
    subject: Subject, operation: Operation, numbers: range, into: Sequential
) -> None:
    """`operation` once per number, each after the previous one was answered."""
    cpu_before = subject.bot.cpu()
    for number in numbers:
        interaction = operation.send(number)
        await wait_done(subject.double, [interaction], operation.followups)
        into.round_trips.append(interaction.attempts[0].at - interaction.sent_at)
    into.cpu += subject.bot.cpu() - cpu_before


async def sequential_round(
    subjects: list[Subject], index: int, calls: int, block: int
) -> dict[str, Sequential]:
    """`calls` calls of operation `index` on each bot, in blocks of `block` that
    alternate between the bots (ABBA...), so that both see the same machine."""
    results = {subject.kind: Sequential() for subject in subjects}
    for number, start in enumerate(range(0, calls, block)):
        numbers = range(start, min(start + block, calls))
        for subject in subjects if number % 2 == 0 else subjects[::-1]:
            await run_calls(subject, subject.operations[index], numbers, results[subject.kind])
    return results


async def run_concurrent(subject: Subject, operation: Operation, count: int) -> float:
    """`count` interactions sent at once: seconds from the first sent to the last
    answered."""
    sent = [operation.send(number) for number in range(count)]
    last = await wait_done(subject.double, sent, operation.followups)
    return last - min(interaction.sent_at for interaction in sent)


# -- the worlds --------------------------------------------------------------------------


@dataclass
class Clinic:
    """One server: a home channel, a leader and members."""

    double: DiscordDouble
    guild: Guild
    home: Channel
    leader: User
    members: list[User]

    @property
    def admin(self) -> User:
        return next(m.user for m in self.guild.members.values() if m.user.id == self.guild.owner_id)


def build_clinic(double: DiscordDouble, members: int) -> Clinic:
    guild = double.add_guild("Clinic")
    home = double.add_channel(guild, "balint-tuesday")
    leader = double.add_user("dr-lead")
    people = [double.add_user(f"member-{index}") for index in range(members)]
    for user in (leader, *people):
        double.add_member(guild, user)
    return Clinic(double, guild, home, leader, people)


def build_servers(double: DiscordDouble, servers: int, members: int) -> list[tuple[int, int]]:
    """`servers` servers of `members` members each; returns (server id, channel id)."""
    homes = []
    for number in range(servers):
        guild = double.add_guild(f"Clinic {number}")
        channel = double.add_channel(guild, "balint")
        for index in range(members - 1):  # the owner is the first member
            double.add_member(guild, double.add_user(f"s{number}-m{index}"))
        homes.append((guild.id, channel.id))
    return homes


@dataclass
class Subject:
    """A bot under measurement, its double, and the operations users perform on it."""

    kind: str
    double: DiscordDouble
    bot: BotProcess
    operations: list[Operation] = field(default_factory=list)


async def project_subject(clinic: Clinic, database: Path) -> Subject:
    """The project's bot with a group, a term of sessions, a channel reminder with its
    RSVP buttons, and a case note held for the next session."""
    double = clinic.double
    bot = await spawn("project", double, database=database)
    await double.slash(
        "group create",
        clinic.admin,
        guild=clinic.guild,
        channel=clinic.home,
        options={"name": "Tuesday group", "channel": clinic.home, "timezone": "Europe/London"},
        leader=clinic.leader,
    )
    for member in clinic.members:
        await double.slash(
            "group add", clinic.leader, guild=clinic.guild, channel=clinic.home, member=member
        )
    # The first session starts within 24 hours: its channel reminder is posted at once.
    await double.slash(
        "session schedule",
        clinic.leader,
        guild=clinic.guild,
        channel=clinic.home,
        start="2026-11-24 08:00",
        duration=90,
        repeat="weekly",
        count=12,
    )
    reminder = await double.wait_for_message(
        clinic.home, lambda m: any(c.startswith("rsvp:") for c in m.custom_ids()), timeout=WAIT
    )
    with sqlite3.connect(database) as reading:
        session_id, presenter_id = reading.execute(
            "SELECT id, presenter_id FROM sessions ORDER BY starts_at LIMIT 1"
        ).fetchone()
    presenter = double.users[int(presenter_id)]
    opened = await double.slash("case submit", presenter, guild=clinic.guild, channel=clinic.home)
    preview = (await double.submit_modal(opened, presenter, {"note": NOTE})).reply
    [confirm] = [c for c in preview.custom_ids() if c.startswith("case:confirm:")]
    await double.click(preview, confirm, presenter)
    others = [m for m in clinic.members if m is not presenter]
    member = others[0]
    where = (clinic.guild, clinic.home)
    subject = Subject("project", double, bot)
    subject.operations = [
        Operation("/rota show", slash_sender(double, "rota show", member, *where)),
        Operation("/session list", slash_sender(double, "session list", member, *where)),
        Operation("/case view", slash_sender(double, "case view", clinic.leader, *where)),
        Operation(
            "RSVP button", click_sender(double, reminder, f"rsvp:{session_id}:yes", others), 1
        ),
    ]
    return subject


async def answers_of(subject: Subject) -> dict[str, str]:
    """What the bot answers to each of its operations: the first answer's text, and the
    follow-up's for an operation that sends one."""
    texts = {}
    for operation in subject.operations:
        interaction = operation.send(0)
        await wait_done(subject.double, [interaction], operation.followups)
        texts[operation.name] = interaction.attempts[0].body["data"]["content"]
        if operation.followups:
            texts[f"{operation.name} follow-up"] = interaction.followups[0].content
    return texts


async def bare_subject(clinic: Clinic, answers: dict[str, str] | None, folder: Path) -> Subject:
    """The bare bot, answering the project's texts (`answers`) or short fixed ones:
    each slash command is sent in a channel of its own, where `/ping` answers that
    command's text."""
    double = clinic.double
    slash = ["/rota show", "/session list", "/case view"]
    channels = {
        name: double.add_channel(clinic.guild, f"for-{index}") for index, name in enumerate(slash)
    }
    path = None
    if answers is not None:
        path = folder / "answers.json"
        given = {
            "slash": {str(channels[name].id): answers[name] for name in slash},
            "edit": answers["RSVP button"],
            "followup": answers["RSVP button follow-up"],
        }
        path.write_text(json.dumps(given))
    bot = await spawn("bare", double, button_channel=clinic.home.id, answers=path)
    message = await double.wait_for_message(
        clinic.home, lambda m: "bare:1" in m.custom_ids(), timeout=WAIT
    )
    member = clinic.members[0]
    subject = Subject("bare", double, bot)
    subject.operations = [
        Operation(name, slash_sender(double, "ping", member, clinic.guild, channels[name]))
        for name in slash
    ]
    subject.operations.append(
        Operation("RSVP button", click_sender(double, message, "bare:1", clinic.members), 1)
    )
    return subject


# -- printing ----------------------------------------------------------------------------


@dataclass
class Figure:
    """One figure over the rounds, for both bots."""

    name: str
    unit: str
    scale: float
    bare: list[float] = field(default_factory=list)
    project: list[float] = field(default_factory=list)
    difference: bool = False  # show project - bare (memory), not the ratio

    def add(self, kind: str, value: float) -> None:
        (self.bare if kind == "bare" else self.project).append(value)

    def line(self) -> str:
        bare, project = statistics.median(self.bare), statistics.median(self.project)
        if self.difference:
            deltas = [p - b for b, p in zip(self.bare, self.project, strict=True)]
            compared = f"{statistics.median(deltas) * self.scale:+,.1f} {self.unit}"
        else:
            ratios = [p / b for b, p in zip(self.bare, self.project, strict=True)]
            compared = f"x{statistics.median(ratios):.2f}"
        return (
            f"| {self.name} | {bare * self.scale:,.2f} {self.unit} | "
            f"{project * self.scale:,.2f} {self.unit} | {compared} |"
        )


def table(title: str, figures: Iterator[Figure] | list[Figure]) -> None:
    print(f"\n{title}\n")
    print("| figure | bare discord.py | this bot | ratio (median of rounds) |")
    print("|---|---|---|---|")
    for figure in figures:
        print(figure.line())
    sys.stdout.flush()


# -- the two parts -----------------------------------------------------------------------


async def commands_part(options: argparse.Namespace, folder: Path) -> None:
    async with (
        new_double(options.validate) as bare_double,
        new_double(options.validate) as project_double,
    ):
        project = await project_subject(
            build_clinic(project_double, options.members), folder / "commands.db"
        )
        answers = None if options.short_answers else await answers_of(project)
        bare = await bare_subject(build_clinic(bare_double, options.members), answers, folder)
        subjects = [bare, project]
        try:
            for subject in subjects:  # warm both up: caches, imports done lazily
                for operation in subject.operations:
                    await run_calls(subject, operation, range(20), Sequential())
            figures = await command_rounds(options, subjects)
            if options.profile:
                await profile(options, subjects)
        finally:
            for subject in subjects:
                await subject.bot.quit()
    title = (
        f"Commands: {options.rounds} rounds, {options.calls} sequential calls and "
        f"{options.concurrent} at once per command and round"
    )
    table(title, figures)


async def command_rounds(options: argparse.Namespace, subjects: list[Subject]) -> list[Figure]:
    figures: list[Figure] = []
    names = [operation.name for operation in subjects[0].operations]
    for index, name in enumerate(names):
        if options.ops and not any(part in name for part in options.ops.split(",")):
            continue
        median = Figure(f"`{name}` round-trip, median", "ms", 1000)
        p99 = Figure(f"`{name}` round-trip, 99th percentile", "ms", 1000)
        cpu = Figure(f"bot CPU per `{name}`", "µs", 1e6)
        wall = Figure(f"{options.concurrent} concurrent `{name}`, wall", "ms", 1000)
        for number in range(options.rounds):
            results = await sequential_round(subjects, index, options.calls, options.block)
            for kind, result in results.items():
                median.add(kind, result.median)
                p99.add(kind, result.p99)
                cpu.add(kind, result.cpu_per_call)
            walls: dict[str, list[float]] = {subject.kind: [] for subject in subjects}
            order = subjects if number % 2 == 0 else subjects[::-1]
            for subject in [*order, *order[::-1]]:  # ABBA
                operation = subject.operations[index]
                walls[subject.kind].append(
                    await run_concurrent(subject, operation, options.concurrent)
                )
            for kind, values in walls.items():
                wall.add(kind, statistics.mean(values))
        figures += [median, p99, cpu, wall]
        print(f"  measured {name}", file=sys.stderr)
    return figures


async def profile(options: argparse.Namespace, subjects: list[Subject]) -> None:
    folder = Path(options.profile)
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (before anything runs)
    for subject in subjects:
        for operation in subject.operations:
            await subject.bot.ask("profile-start")
            await run_calls(subject, operation, range(options.calls), Sequential())
            slug = operation.name.strip("/").replace(" ", "-").lower()
            await subject.bot.ask(f"profile-stop {folder / f'{slug}.{subject.kind}.prof'}")
    print(f"  profiles written to {folder}", file=sys.stderr)


async def start_part(options: argparse.Namespace, folder: Path) -> None:
    async with new_double(options.validate) as one, new_double(options.validate) as many:
        build_clinic(one, options.members - 1)
        homes = build_servers(many, options.servers, options.members)
        # The project bot starts as it does after its first run: database made, commands
        # synced (unchanged since, so not synced again).
        template = folder / "template.db"
        first = await spawn("project", one, database=template)
        await first.quit()
        loaded = folder / "loaded.db"
        shutil.copy(template, loaded)
        await seed(loaded, options.groups, options.reminders, homes=homes, now=START)

        scenarios = [
            ("1 server", "one-server", one, template),
            (
                f"{options.servers:,} servers of {options.members} members",
                "servers",
                many,
                template,
            ),
            (
                f"{options.servers:,} servers, {options.groups:,} groups, "
                f"{options.reminders:,} pending reminders",
                "reminders",
                many,
                loaded,
            ),
        ]
        figures: list[Figure] = []
        for label, slug, double, database in scenarios:
            ready = Figure(f"start to ready, {label}", "s", 1)
            spawned = Figure(f"process start to ready, {label}", "s", 1)
            memory = Figure(f"memory after ready, {label}", "MiB", 1 / 1024, difference=True)
            for number in range(options.rounds):
                kinds = ("bare", "project") if number % 2 == 0 else ("project", "bare")
                for kind in kinds:
                    copied = folder / f"run-{number}-{kind}.db"
                    shutil.copy(database, copied)
                    bot = await spawn(kind, double, database=copied)
                    await bot.quit()
                    ready.add(kind, bot.ready["ready"])
                    spawned.add(kind, bot.spawn_to_ready)
                    memory.add(kind, bot.ready["rss_kib"])
            if options.profile:  # one more start each, profiled, not in the figures
                for kind in ("bare", "project"):
                    copied = folder / f"profiled-{kind}.db"
                    shutil.copy(database, copied)
                    profile = Path(options.profile) / f"start-{slug}.{kind}.prof"
                    await (await spawn(kind, double, database=copied, profile_start=profile)).quit()
            figures += [ready, spawned, memory]
            print(f"  measured start: {label}", file=sys.stderr)
    table(f"Start and memory: {options.rounds} rounds, a fresh process each time", figures)


def parse(arguments: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.speed", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200, help="sequential calls per round")
    parser.add_argument("--block", type=int, default=10, help="calls before switching bots")
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--members", type=int, default=10, help="members per server")
    parser.add_argument("--servers", type=int, default=1_000)
    parser.add_argument("--groups", type=int, default=1_000)
    parser.add_argument("--reminders", type=int, default=50_000)
    parser.add_argument("--only", choices=("commands", "start"), default=None)
    parser.add_argument(
        "--ops", default="", help="commands to measure, by part of their name: rota,case,RSVP"
    )
    parser.add_argument("--validate", action="store_true", help="keep the double's validation")
    parser.add_argument(
        "--short-answers",
        action="store_true",
        help="the bare bot answers 'Pong.' instead of the project's texts",
    )
    parser.add_argument("--profile", metavar="DIR", default=None)
    parser.add_argument(
        "--project-root",
        metavar="DIR",
        default=None,
        help="run the project's bot from another checkout (e.g. an earlier commit)",
    )
    return parser.parse_args(arguments)


async def main(arguments: list[str] | None = None) -> None:
    options = parse(arguments)
    print(
        f"speed benchmark (python {sys.version.split()[0]}, "
        f"{len(__import__('os').sched_getaffinity(0))} cores)"
    )
    if options.project_root:
        use_project_root(Path(options.project_root))
        print(f"the project's bot runs from {PROJECT_ROOT}")
    with tempfile.TemporaryDirectory() as folder:
        use_bytecode_cache(Path(folder) / "bytecode")
        if options.only in (None, "commands"):
            await commands_part(options, Path(folder))
        if options.only in (None, "start"):
            await start_part(options, Path(folder))


if __name__ == "__main__":
    asyncio.run(main())
