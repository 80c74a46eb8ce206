"""The shape of the code, enforced: read every module's imports (with `ast`, type-only
imports included) and check the rules the README's Development section states.

- Nothing under `bot/` imports discord.py except the composition root (`bot/app.py`,
  `bot/__main__.py`); nothing under `bot/` but the composition root imports `cogs`.
- Pure rule modules import neither discord nor aiosqlite, not even through the bot's
  own modules they import.
- The kernel knows no capability; capabilities depend in one direction only.
- Cogs do not import each other (only `cogs._common`, and their own package).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSITION_ROOT = {"bot.app", "bot.__main__", "bot.capabilities"}
DISCORD_ALLOWED = {"bot.app", "bot.__main__"}
# The one direction capabilities depend in: each may import only those before it.
CAPABILITIES = (
    "groups",
    "sessions",
    "rota",
    "reminders",
    "cases",
    "reflections",
    "attendance",
    "privacy",
)
PURE_MODULES = {
    "bot.groups.rules",
    "bot.rota.rules",
    "bot.reminders.rules",
    "bot.sessions.recurrence",
    "bot.sessions.calendar",
    "bot.kernel.zones",
    "bot.kernel.clock",
    "bot.kernel.errors",
    "bot.cases.rules",
    "bot.cases.identifiers",
    "bot.cases.drafts",
    "bot.kernel.drafts",
    "bot.reflections.rules",
    "bot.attendance.rules",
    "bot.attendance.log",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> Iterator[tuple[str, Path]]:
    for top in ("bot", "cogs"):
        for path in sorted((ROOT / top).rglob("*.py")):
            yield module_name(path), path


@cache
def imports_of(name: str) -> frozenset[str]:
    """Every module `name` imports (absolute names; `from a import b` gives `a` and,
    when `a.b` is a module of the project, `a.b` too)."""
    path = dict(modules())[name]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            project = dict(modules())
            found.update(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if f"{node.module}.{alias.name}" in project
            )
    return frozenset(found)


def top(name: str) -> str:
    return name.split(".")[0]


def capability_of(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] == "bot" and len(parts) > 1 and parts[1] in CAPABILITIES:
        return parts[1]
    return None


def closure(name: str) -> set[str]:
    """`name` and every project module it imports, directly or not."""
    project = dict(modules())
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen or current not in project:
            continue
        seen.add(current)
        todo.extend(imports_of(current))
    return seen


BOT_MODULES = [name for name, _ in modules() if top(name) == "bot"]
COG_MODULES = [name for name, _ in modules() if top(name) == "cogs"]


def test_the_tree_has_the_documented_packages() -> None:
    for package in ("kernel", "groups", "sessions", "rota", "reminders", "cases", "privacy"):
        assert (ROOT / "bot" / package / "__init__.py").exists(), package
    assert (ROOT / "cogs" / "_common" / "__init__.py").exists()
    assert len(BOT_MODULES) > 20
    assert len(COG_MODULES) > 8


@pytest.mark.parametrize("name", BOT_MODULES)
def test_only_the_composition_root_imports_discord_or_cogs(name: str) -> None:
    if name in DISCORD_ALLOWED:
        return
    bad = {m for m in imports_of(name) if top(m) == "discord"}
    assert not bad, f"{name} imports {sorted(bad)}: Discord stays in cogs/ and bot/app.py"
    if name not in COMPOSITION_ROOT:
        bad = {m for m in imports_of(name) if top(m) == "cogs" or m in COMPOSITION_ROOT}
        assert not bad, f"{name} imports {sorted(bad)}"


@pytest.mark.parametrize("name", sorted(PURE_MODULES))
def test_pure_rules_reach_neither_discord_nor_the_database(name: str) -> None:
    reached = {m for module in closure(name) for m in imports_of(module)}
    bad = {m for m in reached if top(m) in {"discord", "aiosqlite", "sqlite3"}}
    bad |= {m for m in closure(name) if m in {"bot.kernel.db"} or m.endswith(".store")}
    assert not bad, f"{name} reaches {sorted(bad)}"


@pytest.mark.parametrize("name", [n for n in BOT_MODULES if n.startswith("bot.kernel")])
def test_the_kernel_knows_no_capability(name: str) -> None:
    bad = {m for m in imports_of(name) if capability_of(m) or m in COMPOSITION_ROOT}
    assert not bad, f"{name} imports {sorted(bad)}"


@pytest.mark.parametrize("name", [n for n in BOT_MODULES if capability_of(n)])
def test_capabilities_depend_in_one_direction(name: str) -> None:
    own = CAPABILITIES.index(capability_of(name) or "")
    later = {
        m
        for m in imports_of(name)
        if capability_of(m) and CAPABILITIES.index(capability_of(m) or "") > own
    }
    assert not later, f"{name} imports {sorted(later)}, which come after it"


@pytest.mark.parametrize("name", COG_MODULES)
def test_cogs_do_not_import_each_other(name: str) -> None:
    parts = name.split(".")
    own = ".".join(parts[:2]) if len(parts) > 1 else name
    for imported in imports_of(name):
        if top(imported) != "cogs" or imported == "cogs":
            continue
        target = ".".join(imported.split(".")[:2])
        if own == "cogs._common":
            assert target == "cogs._common", f"{name} (shared code) imports the cog {imported}"
        else:
            assert target in {"cogs._common", own}, f"{name} imports another cog, {imported}"


def test_the_rules_can_fail() -> None:
    """The checks see real imports: the cogs do import discord, the services the stores."""
    assert "discord" in imports_of("cogs.groups")
    assert "bot.rota.store" in imports_of("bot.rota.service")
    assert "bot.sessions.store" in closure("bot.rota.service")
