"""Groups: their rosters, settings and the leaders' audit trail."""
