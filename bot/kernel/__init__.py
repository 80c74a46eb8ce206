"""The kernel: configuration, clock, database, scheduler, cipher, DM pacing, errors and
logging. It knows no capability and nothing of Discord.

Importing any kernel module imports `zones` first, which makes the pinned `tzdata`
package the one source of time-zone rules for every `ZoneInfo` in the process.
"""

from bot.kernel import zones

__all__ = ["zones"]
