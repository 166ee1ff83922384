"""Automatic order mails: order confirmation, shipping notice, follow-up — kinds, creation,
templates, the send queue, history and operations."""
