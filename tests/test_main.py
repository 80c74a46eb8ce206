"""`python -m bot`: operator mistakes end with one line on stderr and exit status 2."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.kernel.config import encode_key

TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run_bot(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"DISCORD_TOKEN", "ENCRYPTION_KEY", "DATABASE_PATH", "DEV_GUILD_ID", "LOG_LEVEL"}
    }
    clean.update(env)
    # The project runs from its checkout (it is not installed): the child finds it here.
    clean["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), clean.get("PYTHONPATH")])
    )
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,  # no .env there
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "DISCORD_TOKEN is not set"),
        ({"DISCORD_TOKEN": "abc"}, "does not look like a bot token"),
        ({"DISCORD_TOKEN": TOKEN, "DATABASE_PATH": "/no/such/dir/x.db"}, "does not exist"),
        ({"DISCORD_TOKEN": TOKEN, "ENCRYPTION_KEY": "not-a-key"}, "ENCRYPTION_KEY"),
        ({"DISCORD_TOKEN": TOKEN, "LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
    ],
)
def test_configuration_errors_exit_2_with_one_line(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = run_bot(tmp_path, **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert lines[0].startswith("balint-bot: error:")
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stderr + result.stdout


def test_unreadable_database_exits_2_before_contacting_discord(tmp_path: Path) -> None:
    (tmp_path / "balint.db").write_bytes(b"not a database at all" * 200)
    result = run_bot(tmp_path, DISCORD_TOKEN=TOKEN, ENCRYPTION_KEY=encode_key(bytes(32)))
    assert result.returncode == 2
    assert "unreadable" in result.stderr
    assert "Traceback" not in result.stderr


def test_newer_database_exits_2(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "balint.db") as raw:
        raw.execute("PRAGMA user_version = 4242")
    result = run_bot(tmp_path, DISCORD_TOKEN=TOKEN, ENCRYPTION_KEY=encode_key(bytes(32)))
    assert result.returncode == 2
    assert "newer version" in result.stderr
    assert "Traceback" not in result.stderr


async def test_wrong_key_for_the_database_exits_2(tmp_path: Path) -> None:
    from bot.kernel.crypto import Cipher, verify_key
    from bot.kernel.db import Database

    database = await Database.open(tmp_path / "balint.db")
    await database.migrate()
    await verify_key(database, Cipher(bytes(32)))
    await database.close()

    result = run_bot(tmp_path, DISCORD_TOKEN=TOKEN, ENCRYPTION_KEY=encode_key(b"\x01" * 32))
    assert result.returncode == 2
    assert "not the key this database was created with" in result.stderr
    assert "Traceback" not in result.stderr
