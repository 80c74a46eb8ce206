"""One storage module per aggregate: plain SQL through `bot.db.Database`."""
