"""Shared by every feature: the outbox, the send loop and relays, dispatch (the one place
that enqueues), merge values, audit, the member filter, states."""
