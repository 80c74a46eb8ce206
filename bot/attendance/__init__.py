"""Attendance and the leaders' records: who came, the leaders' notes about it, and the
log of sessions led for accreditation."""
