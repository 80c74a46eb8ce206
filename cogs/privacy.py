"""/preferences, /privacy, /mydata export and /mydata delete: each member's own data."""

from __future__ import annotations

import io
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import BalintBot
from bot.privacy import preferences as prefs
from bot.privacy import service as privacy_service
from bot.privacy.registry import kinds_of_data
from cogs._common.audience import Audience
from cogs._common.messages import defer_now, guarded, reply
from cogs._common.notify import CANNOT_SEND_TO_USER, deliver

PRIVACY_INTRO = (
    "**What Balint bot keeps about you**, and for how long. All of it is in the bot's own "
    "database, on the computer of whoever runs the bot for your society; nothing is sent "
    "elsewhere."
)
PRIVACY_OUTRO = (
    "**Not kept**: the messages you write in channels (the bot does not read them), and "
    "anything that links a reflection to you: reflections hold no user id, and after "
    "their window closes nothing, not even the database with its key, can tell who wrote "
    "which. Case notes are encrypted and deleted after their session; logs never hold what "
    "you wrote.\n"
    "`/mydata export` sends you all of it as a file; `/mydata delete` erases it."
)


def privacy_text() -> str:
    lines = [f"- {words[0].upper()}{words[1:]}." for words in kinds_of_data().values()]
    return "\n\n".join([PRIVACY_INTRO, "\n".join(lines), PRIVACY_OUTRO])


def on_off(value: bool) -> str:
    return "on" if value else "off"


class DeleteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"mydata:delete:(?P<user>[0-9]+)"
):
    """The confirmation of `/mydata delete`; only the member who asked can press it."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        super().__init__(
            discord.ui.Button(
                label="Delete my data",
                style=discord.ButtonStyle.danger,
                custom_id=f"mydata:delete:{user_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> DeleteButton:
        return cls(int(match["user"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: BalintBot = interaction.client
        if interaction.user.id != self.user_id:
            await reply(interaction, "This button is for the member who asked; nothing was done.")
            return
        erased = await privacy_service.erase_data(
            bot.database, bot.cipher, self.user_id, bot.clock.now()
        )
        await interaction.response.edit_message(
            content=(
                "Done: your memberships, answers, absences, swap requests, case notes, "
                "attendance, preferences and the audit entries that named you are erased, "
                "from the disk too. Released reflections stay: nothing links them to you."
            ),
            view=None,
        )
        for group in erased.groups:
            mine = [n for n in erased.notices if getattr(n, "group_id", None) == group.id]
            await deliver(bot, group, mine, "a member left", exclude={self.user_id})


@app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
class Privacy(commands.Cog):
    def __init__(self, bot: BalintBot) -> None:
        self.bot = bot

    mydata = app_commands.Group(
        name="mydata",
        description="Your own data: a copy, or its deletion",
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True),
        extras={"audience": Audience.ANYONE},
    )

    @app_commands.command(
        name="preferences",
        description="Turn the bot's direct messages to you on or off",
        extras={"audience": Audience.ANYONE},
    )
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    @app_commands.describe(
        reminder_dms="Reminders and notices by DM (off: a mention without content instead)",
        reflection_dms="The invitation to write a reflection after a session",
    )
    async def preferences(
        self,
        interaction: discord.Interaction[BalintBot],
        reminder_dms: bool | None = None,
        reflection_dms: bool | None = None,
    ) -> None:
        if reminder_dms is None and reflection_dms is None:
            mine = await prefs.preferences_of(self.bot.database, interaction.user.id)
            changed = "Your preferences"
        else:
            async with self.bot.database.transaction() as tx:
                mine = await prefs.set_preferences(
                    tx,
                    interaction.user.id,
                    reminder_dms=reminder_dms,
                    reflection_dms=reflection_dms,
                )
            changed = "Saved. Your preferences"
        await reply(
            interaction,
            f"{changed}: reminder and notice DMs **{on_off(mine.reminder_dms)}**, reflection "
            f"invitations by DM **{on_off(mine.reflection_dms)}**.",
            "With reminder DMs off, what you must not miss (swap requests, your presenting "
            "slots) comes as a mention in your group's channel, without its content.",
        )

    @app_commands.command(
        name="privacy",
        description="What the bot keeps about you, and for how long",
        extras={"audience": Audience.ANYONE},
    )
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def privacy(self, interaction: discord.Interaction[BalintBot]) -> None:
        await reply(interaction, privacy_text())

    @mydata.command(name="export", description="A copy of your data, as a file by DM")
    async def export(self, interaction: discord.Interaction[BalintBot]) -> None:
        await defer_now(interaction)
        document = await privacy_service.export_data(
            self.bot.database, interaction.user.id, self.bot.clock.now()
        )

        def file() -> discord.File:
            return discord.File(io.BytesIO(document), filename="balint-bot-my-data.json")

        async def by_dm() -> None:
            channel = await self.bot.create_dm(interaction.user)
            await channel.send(
                "Your data, as the bot keeps it.",
                file=file(),
                allowed_mentions=discord.AllowedMentions.none(),
            )

        try:
            await self.bot.dm_pacer.run(by_dm)
        except discord.Forbidden as error:
            if error.code != CANNOT_SEND_TO_USER:
                raise
            await interaction.followup.send(
                "Your DMs are closed, so here it is (only you see this).",
                file=file(),
                ephemeral=True,
            )
            return
        await interaction.followup.send("Sent to you by DM.", ephemeral=True)

    @mydata.command(name="delete", description="Erase your data (asks first)")
    async def delete(self, interaction: discord.Interaction[BalintBot]) -> None:
        alone = await privacy_service.groups_left_without_a_leader(
            self.bot.database, interaction.user.id
        )
        view = discord.ui.View(timeout=None)
        view.add_item(DeleteButton(interaction.user.id))
        warning = (
            " You are the last leader of a group: hand it over first, or the deletion will "
            "be refused."
            if alone
            else ""
        )
        await reply(
            interaction,
            "This erases your memberships in every group, your RSVPs, absences, swap "
            "requests, case notes and flags, attendance records, preferences and the audit "
            "entries that name you, at once and for good. Your past presentations remain "
            "only as sessions presented by a former member; released reflections stay, "
            f"since nothing links them to you.{warning}",
            view=view,
        )


async def setup(bot: BalintBot) -> None:
    bot.add_dynamic_items(DeleteButton)
    await bot.add_cog(Privacy(bot))
