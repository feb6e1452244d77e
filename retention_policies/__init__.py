"""Retention schedules as data and the pure evaluation core, with no I/O (issue 6)."""
