"""Placeholder replaced by the attendance capability (signals to the leaders)."""

from __future__ import annotations

from datetime import datetime

from bot.kernel.db import Transaction


class AttendanceReconciler:
    async def snapshot(self, tx: Transaction, group_id: int, now: datetime) -> None:
        return None

    async def reconcile(self, tx: Transaction, group_id: int, now: datetime, before: None) -> None:
        return None
