"""The kernel: configuration, clock, database, scheduler, cipher, DM pacing, errors and
logging. It knows no capability and nothing of Discord."""
