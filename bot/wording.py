"""Phrases several commands show, in one place so they always read the same."""

from __future__ import annotations

from datetime import timedelta

from bot.storage.groups import Group, PresenterMode


def presenter_label(group: Group, presenter_id: int | None) -> str:
    """Who presents, in the group's presenter mode: "presenter: @x", "on deck: @x"."""
    if presenter_id is None:
        return "no presenter yet"
    if group.presenter_mode is PresenterMode.ON_DECK:
        return f"on deck: <@{presenter_id}>"
    return f"presenter: <@{presenter_id}>"


def minutes(duration: timedelta) -> int:
    return int(duration.total_seconds() // 60)
