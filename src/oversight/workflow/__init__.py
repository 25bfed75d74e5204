"""Handling a warning to closure: the transition table, deadlines, escalation, comments, feedback."""
