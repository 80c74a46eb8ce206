"""`python -m bench`: run every benchmark."""

from __future__ import annotations

import asyncio
import sys

from bench import burst, durable, identifiers, killtest, reminders, speed

if __name__ == "__main__":
    identifiers.main()
    asyncio.run(reminders.main())
    # speed against a bare discord.py bot (about 15 minutes on 2 cores), the burst under
    # Discord's rate limits, durable case notes
    asyncio.run(speed.main([]))
    asyncio.run(burst.main([]))
    asyncio.run(durable.main([]))
    # 20 runs of the kill test (about 6 minutes); exits 1 if one was not clean
    sys.exit(killtest.main([]))
