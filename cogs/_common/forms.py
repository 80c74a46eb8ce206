"""Forms (modals) that survive a restart and serve any number of people at once.

discord.py keeps an open form in memory, under its custom id alone, until it is
submitted: a restart in between loses it ("This interaction failed", the text typed in
it gone), and two people with the same form open share one entry. So the bot only shows
a form (`show_form`, which stops discord.py from keeping it) and reads every submission
from the interaction itself (`form_values`), in a listener that matches the form's
custom id, like a `DynamicItem` does for buttons.

One listener serves the forms of every cog (`handle_forms`): discord.py starts a task
for each `on_interaction` listener on every interaction (every command and button press,
not only forms), so each listener more is paid for by all of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any
from weakref import WeakKeyDictionary

import discord
from discord.ext import commands

from cogs._common.messages import answering, reply

FormHandler = Callable[[discord.Interaction[Any], str], Awaitable[None]]
"""Called with a submitted form and its custom id; ignores the forms that are not its."""

_handlers: WeakKeyDictionary[commands.bot.BotBase, list[FormHandler]] = WeakKeyDictionary()


def handle_forms(bot: commands.bot.BotBase, handler: FormHandler) -> None:
    """Offer every form submitted to `bot` to `handler` (in the order they were added)."""
    handlers = _handlers.get(bot)
    if handlers is None:
        handlers = _handlers[bot] = []
        registered = handlers

        async def on_interaction(interaction: discord.Interaction[Any]) -> None:
            form_id = submitted_form_id(interaction)
            if form_id is None:
                return
            for each in list(registered):
                await each(interaction, form_id)

        bot.add_listener(on_interaction, "on_interaction")
    handlers.append(handler)


def stop_handling_forms(bot: commands.bot.BotBase, handler: FormHandler) -> None:
    handlers = _handlers.get(bot, [])
    if handler in handlers:
        handlers.remove(handler)


FORM_TOO_LATE = (
    "Sorry, I took too long to open the form (I was busy); nothing was changed. "
    "Please run the command again."
)


async def show_form(interaction: discord.Interaction[Any], form: discord.ui.Modal) -> None:
    """Open `form` for the user; its submission reaches the cog's listener instead. A form
    cannot follow a deferred answer: after one the user is asked to try again."""
    form.stop()  # discord.py forgets it: nothing is held in memory until it comes back
    async with answering(interaction):
        if not interaction.response.is_done():
            await interaction.response.send_modal(form)
            return
    await reply(interaction, FORM_TOO_LATE)


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
