"""Sessions: planning them in a group's time zone, RSVPs, and calendar files."""
