"""Settings: every operator mistake is one clear line, never a traceback."""

from __future__ import annotations

import base64
import os
import re
import stat
from pathlib import Path

import pytest

from bot.kernel import config
from bot.kernel.config import (
    SETTINGS_VARIABLES,
    ConfigError,
    decode_key,
    encode_key,
    key_file_for,
    load_settings,
)

TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
KEY = encode_key(bytes(range(32)))


def env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    values = {
        "DISCORD_TOKEN": TOKEN,
        "DATABASE_PATH": str(tmp_path / "balint.db"),
        "ENCRYPTION_KEY": KEY,
    }
    values.update(overrides)
    return values


def test_valid_configuration_is_typed(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path, DEV_GUILD_ID="123456789012345678", LOG_LEVEL="debug"))
    assert settings.token == TOKEN
    assert settings.database_path == tmp_path / "balint.db"
    assert settings.encryption_key == bytes(range(32))
    assert settings.dev_guild_id == 123456789012345678
    assert settings.log_level == "DEBUG"
    assert not settings.key_was_generated


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"DISCORD_TOKEN": TOKEN, "ENCRYPTION_KEY": KEY})
    assert settings.database_path == Path("balint.db")
    assert settings.dev_guild_id is None
    assert settings.log_level == "INFO"
    assert settings.shard_count is None
    assert settings.log_format == "text"


def test_token_never_in_repr(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path))
    assert TOKEN not in repr(settings)
    assert KEY not in repr(settings)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"DISCORD_TOKEN": ""}, "DISCORD_TOKEN is not set"),
        ({"DISCORD_TOKEN": "not-a-token"}, "does not look like a bot token"),
        ({"DEV_GUILD_ID": "my server"}, "DEV_GUILD_ID must be a server id"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be text \\(the default\\) or json, not 'xml'"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT must be auto"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT must be auto"),
        ({"SHARD_COUNT": "5000"}, "SHARD_COUNT must be auto"),
        ({"ENCRYPTION_KEY": "%%%"}, "not valid URL-safe base64"),
        ({"ENCRYPTION_KEY": base64.urlsafe_b64encode(b"short").decode()}, "32 bytes, not 5"),
        ({"DATABASE_PATH": "/nonexistent-folder/x.db"}, "does not exist"),
    ],
)
def test_bad_values_are_one_line_errors(
    tmp_path: Path, overrides: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected) as caught:
        load_settings(env(tmp_path, **overrides))
    assert "\n" not in str(caught.value)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"), [("", None), ("auto", None), ("AUTO", None), ("3", 3)]
)
def test_shard_count(tmp_path: Path, text: str, expected: int | None) -> None:
    assert load_settings(env(tmp_path, SHARD_COUNT=text)).shard_count == expected


def test_database_path_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings(env(tmp_path, DATABASE_PATH=str(tmp_path)))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ConfigError, match="not writable"):
        load_settings(env(tmp_path, DATABASE_PATH=str(locked / "x.db")))


def test_missing_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = load_settings(env(tmp_path, ENCRYPTION_KEY=""))
    key_file = key_file_for(tmp_path / "balint.db")
    assert first.key_was_generated
    assert len(first.encryption_key) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert decode_key(key_file.read_text()) == first.encryption_key

    second = load_settings(env(tmp_path, ENCRYPTION_KEY=""))
    assert not second.key_was_generated
    assert second.encryption_key == first.encryption_key


def test_dotenv_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        f"DISCORD_TOKEN={TOKEN}\nENCRYPTION_KEY={KEY}\nLOG_LEVEL=WARNING\n"
        f"DATABASE_PATH={tmp_path / 'from-dotenv.db'}\n"
    )
    for name in ("DISCORD_TOKEN", "ENCRYPTION_KEY", "DATABASE_PATH", "DEV_GUILD_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    settings = load_settings()
    assert settings.token == TOKEN
    assert settings.database_path == tmp_path / "from-dotenv.db"
    assert settings.log_level == "ERROR"


@pytest.mark.parametrize(
    ("text", "expected"), [("json", "json"), ("JSON", "json"), ("text", "text")]
)
def test_log_format(tmp_path: Path, text: str, expected: str) -> None:
    assert load_settings(env(tmp_path, LOG_FORMAT=text)).log_format == expected


def test_where_the_key_came_from(tmp_path: Path) -> None:
    assert load_settings(env(tmp_path)).key_source == "environment"
    generated = load_settings(env(tmp_path, ENCRYPTION_KEY=""))
    assert generated.key_source == "generated"
    assert generated.key_was_generated
    assert load_settings(env(tmp_path, ENCRYPTION_KEY="")).key_source == "file"


def test_the_tools_can_read_the_settings_without_making_a_key(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path, ENCRYPTION_KEY=""), create_key=False)
    assert settings.key_source == "missing"
    assert settings.encryption_key == b""
    assert not settings.key_was_generated
    assert list(tmp_path.iterdir()) == []  # no key file written


def test_the_tools_that_do_not_talk_to_discord_need_no_token(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path, DISCORD_TOKEN=""), require_token=False)
    assert settings.token == ""
    with pytest.raises(ConfigError, match="does not look like a bot token"):
        load_settings(env(tmp_path, DISCORD_TOKEN="oops"), require_token=False)


def test_settings_variables_are_what_load_settings_reads_and_the_example_documents() -> None:
    source = Path(config.__file__).read_text(encoding="utf-8")
    read = set(re.findall(r'env\.get\("([A-Z_]+)"', source))
    example = Path(config.__file__).parents[2] / "config.example.env"
    documented = set(re.findall(r"^([A-Z_]+)=", example.read_text(encoding="utf-8"), re.M))
    assert set(SETTINGS_VARIABLES) == read == documented
