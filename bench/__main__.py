"""`python -m bench`: run every benchmark."""

from __future__ import annotations

import asyncio

from bench import reminders

if __name__ == "__main__":
    asyncio.run(reminders.main())
