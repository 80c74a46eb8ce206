"""Every table that holds a user id has a keeper that exports and erases it, and
`/privacy` names every kind of data the keepers hold."""

from __future__ import annotations

from bot.privacy.registry import KEEPERS, kinds_of_data
from bot.privacy.user_data import USER_ID_COLUMNS
from cogs.privacy import privacy_text


def test_every_table_holding_a_user_id_has_a_keeper() -> None:
    kept = {table for keeper in KEEPERS for table in keeper.data}
    missing = sorted(set(USER_ID_COLUMNS) - kept)
    assert not missing, f"no keeper exports and erases {missing}: add one to bot/privacy/registry"


def test_keepers_answer_only_for_tables_that_hold_user_ids() -> None:
    assert set(kinds_of_data()) <= set(USER_ID_COLUMNS)


def test_the_privacy_wording_lists_exactly_the_kinds_of_data() -> None:
    text = privacy_text()
    bullets = [line for line in text.split("\n") if line.startswith("- ")]
    assert len(bullets) == len(kinds_of_data())
    for words in kinds_of_data().values():
        assert f"- {words[0].upper()}{words[1:]}." in bullets


def test_each_table_has_one_keeper() -> None:
    tables = [table for keeper in KEEPERS for table in keeper.data]
    assert len(tables) == len(set(tables))
