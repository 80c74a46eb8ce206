"""Forms (modals) that survive a restart and serve any number of people at once.

discord.py keeps an open form in memory, under its custom id alone, until it is
submitted: a restart in between loses it ("This interaction failed", the text typed in
it gone), and two people with the same form open share one entry. So the bot only shows
a form (`show_form`, which stops discord.py from keeping it) and reads every submission
from the interaction itself (`form_values`), in a listener that matches the form's
custom id, like a `DynamicItem` does for buttons.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import discord


async def show_form(interaction: discord.Interaction[Any], form: discord.ui.Modal) -> None:
    """Open `form` for the user; its submission reaches the cog's listener instead."""
    await interaction.response.send_modal(form)
    form.stop()  # discord.py forgets it: nothing is held in memory until it comes back


def submitted_form_id(interaction: discord.Interaction[Any]) -> str | None:
    """The custom id of the form this interaction submits, if it submits one."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return None
    data: Mapping[str, Any] = interaction.data or {}
    custom_id = data.get("custom_id")
    return custom_id if isinstance(custom_id, str) else None


def _inputs(components: Any) -> Iterator[Mapping[str, Any]]:
    for component in components or []:
        if not isinstance(component, Mapping):
            continue
        if "custom_id" in component and "value" in component:
            yield component
        yield from _inputs(component.get("components"))
        if isinstance(component.get("component"), Mapping):
            yield from _inputs([component["component"]])


def form_values(interaction: discord.Interaction[Any]) -> dict[str, str]:
    """What the user typed, by input custom id (text inputs; anything else is ignored)."""
    data: Mapping[str, Any] = interaction.data or {}
    return {
        str(item["custom_id"]): str(item["value"] or "") for item in _inputs(data.get("components"))
    }
