"""Session reminders: which reminder jobs a session has, and the channel messages posted."""
