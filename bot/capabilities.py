"""The capabilities, in the one direction they depend on each other, and what each adds
to every change of a group: groups, sessions, rota, reminders, cases (then reflections,
attendance, privacy). Listed here, explicitly, rather than discovered.

The database runs the reconcilers in this order inside every transaction that watches a
group (`bot.kernel.db.Transaction.watch`): the rota first, since reminders name the
presenter the rota chose; then the cases and the reflections, which follow the sessions
and the roster.
"""

from __future__ import annotations

from bot.attendance.jobs import AttendanceReconciler
from bot.cases.jobs import CaseReconciler
from bot.kernel.db import Reconciler
from bot.reflections.jobs import ReflectionReconciler
from bot.reminders.jobs import ReminderReconciler
from bot.rota.service import RotaReconciler

RECONCILERS: tuple[Reconciler, ...] = (
    RotaReconciler(),
    ReminderReconciler(),
    CaseReconciler(),
    ReflectionReconciler(),
    AttendanceReconciler(),
)
