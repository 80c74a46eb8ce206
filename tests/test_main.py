"""`python -m bot`: operator mistakes end with one line on stderr and exit status 2; the
operator's tools as a process (their work is tested in tests/ops)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.kernel.config import SETTINGS_VARIABLES, encode_key

TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    clean.update(env)
    # The project runs from its checkout (it is not installed): the child finds it here.
    clean["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), clean.get("PYTHONPATH")])
    )
    return subprocess.run(  # noqa: S603  (this interpreter, the project's own entry point)
        [sys.executable, "-m", "bot", *args],
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


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("balint-bot: error:")
    assert "Traceback" not in result.stderr
    return lines[0]


def test_help_names_every_command_in_plain_words(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "--help")
    assert result.returncode == 0
    for command in ("run", "check", "backup", "rotate-key", "status"):
        assert f"    {command}" in result.stdout
    backup = run_bot(tmp_path, "backup", "--help")
    assert "safe while the bot is running" in " ".join(backup.stdout.split())


def test_a_mistyped_command_is_one_line(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "stauts")
    assert result.returncode == 2
    assert "invalid choice: 'stauts'" in one_error_line(result)
    assert run_bot(tmp_path, "status", "--days", "zero").returncode == 2


@pytest.mark.parametrize("command", [["status"], ["backup", "copy.db"], ["rotate-key"]])
def test_the_tools_without_a_database_say_so_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    result = run_bot(tmp_path, *command, ENCRYPTION_KEY=encode_key(bytes(32)))
    assert result.returncode == 2
    assert "there is no database at balint.db" in one_error_line(result)
    assert sorted(os.listdir(tmp_path)) == []  # nothing created


def test_check_with_a_bad_configuration_is_one_line(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "check", DISCORD_TOKEN=TOKEN, LOG_FORMAT="yaml")
    assert result.returncode == 2
    assert "LOG_FORMAT must be" in one_error_line(result)


async def test_a_second_bot_on_the_same_database_refuses_to_start(tmp_path: Path) -> None:
    from bot.ops.lock import RunLock

    with RunLock(tmp_path / "balint.db"):  # the first bot
        result = run_bot(tmp_path, DISCORD_TOKEN=TOKEN, ENCRYPTION_KEY=encode_key(bytes(32)))
    assert result.returncode == 2
    assert "cannot start the bot: the database balint.db is in use" in one_error_line(result)
    assert not (tmp_path / "balint.db").exists()  # refused before opening anything


async def test_status_and_backup_as_processes(tmp_path: Path) -> None:
    from bot.kernel.db import Database

    database = await Database.open(tmp_path / "balint.db")
    await database.migrate()
    await database.close()
    status = run_bot(tmp_path, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert '"groups": []' in status.stdout
    backup = run_bot(tmp_path, "backup", "copy.db", ENCRYPTION_KEY=encode_key(bytes(32)))
    assert backup.returncode == 0, backup.stderr
    assert "the key is NOT in the backup" in backup.stdout
    assert "ENCRYPTION_KEY" in backup.stdout
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
