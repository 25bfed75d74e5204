"""Warnings (预警): what the rules raise, kept in the app database with their records."""
