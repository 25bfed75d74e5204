"""The hash-chained audit log: every transition, protected view, parameter change and login."""
