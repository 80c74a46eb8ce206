"""The bot as a child process (`tests.killtest.launch`): start it, kill it, start it again.

Every life of the process writes its log to a file of its own (`bot-N.log`), read by
the checks afterwards (errors logged, confidential text in the log)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.kernel.config import SETTINGS_VARIABLES, encode_key
from tests.double import DiscordDouble

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0
"""Real seconds a start may take before the run is declared broken."""


@dataclass
class Timeline:
    """Simulated time shared by every life of the bot: SIM_START + (wall - REAL_START) *
    SPEED (see `tests.killtest.launch.ScaledClock`)."""

    sim_start: datetime
    speed: float
    real_start: float = field(default_factory=time.time)

    def seconds(self) -> float:
        return self.sim_start.timestamp() + (time.time() - self.real_start) * self.speed

    def real_seconds_until(self, instant: datetime) -> float:
        return max(0.0, (instant.timestamp() - self.seconds()) / self.speed)


@dataclass
class Life:
    """One run of the child process."""

    number: int
    process: asyncio.subprocess.Process
    log_path: Path
    killed: bool = False
    ready_at: float | None = None
    exit_status: int | None = None


class BotProcess:
    def __init__(
        self,
        double: DiscordDouble,
        database_path: Path,
        key: bytes,
        timeline: Timeline,
        workdir: Path,
        *,
        breakage: str = "",
    ) -> None:
        self.double = double
        self.database_path = database_path
        self.key = key
        self.timeline = timeline
        self.workdir = workdir
        self.breakage = breakage
        self.lives: list[Life] = []
        self.up = asyncio.Event()
        """Set while a life is connected to the gateway (users can act)."""

    @property
    def current(self) -> Life | None:
        return self.lives[-1] if self.lives else None

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
        env.update(
            DISCORD_TOKEN=self.double.token,
            DATABASE_PATH=str(self.database_path),
            ENCRYPTION_KEY=encode_key(self.key),
            LOG_LEVEL="INFO",
            LOG_FORMAT="text",  # the checks read its ERROR lines
            KILLTEST_DISCORD=self.double.base_url,
            KILLTEST_SIM_START=repr(self.timeline.sim_start.timestamp()),
            KILLTEST_REAL_START=repr(self.timeline.real_start),
            KILLTEST_SPEED=repr(self.timeline.speed),
            KILLTEST_BREAK=self.breakage,
            PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])),
        )
        return env

    async def start(self) -> Life:
        """Start a new life (the previous one must have ended)."""
        assert self.current is None or self.current.exit_status is not None
        number = len(self.lives) + 1
        log_path = self.workdir / f"bot-{number}.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.killtest.launch",
                cwd=self.workdir,
                env=self.environment(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        life = Life(number, process, log_path)
        self.lives.append(life)
        return life

    async def wait_ready(self, life: Life, identified_before: int) -> bool:
        """Wait until `life` has identified on the gateway; False if it died first."""
        gateway = self.double.gateway
        deadline = time.monotonic() + START_TIMEOUT
        while gateway.identifies <= identified_before:
            if life.process.returncode is not None:
                return False
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot did not connect within {START_TIMEOUT:g} s")
            await asyncio.sleep(0.02)
        # READY and the guilds were queued with the identify; give the client a moment to
        # read them before users act (discord.py handles events in order anyway).
        await asyncio.sleep(0.1)
        life.ready_at = time.monotonic()
        self.up.set()
        return True

    async def kill(self, life: Life) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed."""
        self.up.clear()
        if life.process.returncode is None:
            life.killed = True
            life.process.send_signal(signal.SIGKILL)
        life.exit_status = await life.process.wait()
        await self._forget_dead_sessions()

    async def stop(self, life: Life) -> int:
        """SIGTERM: the bot's clean shutdown; returns its exit status."""
        self.up.clear()
        if life.process.returncode is None:
            life.process.send_signal(signal.SIGTERM)
        try:
            life.exit_status = await asyncio.wait_for(life.process.wait(), 30)
        except TimeoutError:
            life.process.kill()
            life.exit_status = await life.process.wait()
            raise AssertionError("the bot did not stop within 30 s of SIGTERM") from None
        await self._forget_dead_sessions()
        return life.exit_status

    async def _forget_dead_sessions(self) -> None:
        """A dead process never resumes: once the double has seen its connection drop,
        its gateway session is over (events are no longer kept for it)."""
        gateway = self.double.gateway
        await self.double.changes.wait_for(
            lambda: None if gateway.connected else True,
            timeout=5,
            what="the dead bot's gateway connection to drop",
        )
        for session in gateway.sessions:
            if not session.connected:
                session.ended = True
