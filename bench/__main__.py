"""`python -m bench`: run every benchmark."""

from __future__ import annotations

import asyncio

from bench import identifiers, reminders

if __name__ == "__main__":
    identifiers.main()
    asyncio.run(reminders.main())
