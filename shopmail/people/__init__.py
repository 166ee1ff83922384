"""People: log-in, users, the account page and the audit page."""
