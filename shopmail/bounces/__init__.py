"""Bounces: signed bounce addresses come back as DSNs or ARF reports — through the desk's SMTP
endpoint or a polled mailbox — and mark their rows; the bounces page."""
