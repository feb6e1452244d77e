"""Retention schedules as data and the pure evaluation core, with no I/O but reading schedule files (issue 6)."""

# Nothing is re-exported here: ``evaluate`` and ``resolve`` name both a module and its main function,
# and a package attribute for the function would shadow the module. Import from the modules.
