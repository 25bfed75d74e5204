"""Notifications: an in-app inbox, email over SMTP, and an SMS provider interface."""
