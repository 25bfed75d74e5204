"""Users, roles, passwords (argon2), sessions, TOTP, API tokens and the permission table."""
