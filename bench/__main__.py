"""`python -m bench`: run every benchmark."""

from __future__ import annotations

import asyncio
import sys

from bench import identifiers, killtest, reminders

if __name__ == "__main__":
    identifiers.main()
    asyncio.run(reminders.main())
    # 20 runs of the kill test (about 8 minutes); exits 1 if one was not clean
    sys.exit(killtest.main([]))
