"""States and kinds as enums: the one place their values are written (DESIGN.md, "States are
enums, with CHECK constraints in the database").

Layout: this module imports nothing from the app (only `enum`), so the models import it
(`shopmail.models` → `shopmail.core.states`) without a cycle, although the other `core`
modules import the models; `shopmail/core/__init__.py` imports nothing. Each model builds its
CHECK constraint from the enum with `check_in`; `tests/unit/test_states_rule.py` fails when a
bare string equal to one of these values is compared with, assigned to or passed as a state,
kind, role, relay mode or channel anywhere else in `shopmail/`.

Members are `StrEnum`s: they equal their strings, so rows read back as plain `str`, templates
and JSON keep working, and both drivers (sqlite3, psycopg) bind them as text.
"""

from __future__ import annotations

from enum import StrEnum


class MessageState(StrEnum):
    """An outbox row: held → queued → sending → sent; retrying after a temporary failure;
    failed after a permanent one (or too many retries); unknown when the connection died after
    the data was handed over; bounced when a permanent bounce (DSN) came back for it after the
    relay had said 250; deleted by staff."""

    HELD = "held"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    UNKNOWN = "unknown"
    BOUNCED = "bounced"
    DELETED = "deleted"


class MessageKind(StrEnum):
    """What an outbox row is: an automatic kind, or a record mail, broadcast copy, admin copy
    of a broadcast, or a store's test mail."""

    ORDER_CONFIRMATION = "order_confirmation"
    SHIPPING_NOTICE = "shipping_notice"
    FOLLOW_UP = "follow_up"
    RECORD = "record"
    BROADCAST = "broadcast"
    ADMIN_COPY = "admin_copy"
    TEST = "test"


# The kinds the desk creates by itself from orders and shipments (kind settings, templates).
AUTOMATIC_KINDS: tuple[MessageKind, ...] = (
    MessageKind.ORDER_CONFIRMATION,
    MessageKind.SHIPPING_NOTICE,
    MessageKind.FOLLOW_UP,
)


class RefusalSource(StrEnum):
    """Why a row's address is on the refused list: the recipient's server refused it in the
    SMTP transaction (5xx at RCPT or DATA), a permanent bounce came back later, or the address
    is not an address at all. Rows the relay never took (unreachable, retries ran out) have
    none: they are "not delivered", never offered for flagging."""

    SMTP = "smtp"
    BOUNCE = "bounce"
    ADDRESS = "address"


class BounceOutcome(StrEnum):
    """What one received report did (the `bounce_receipts` table): a permanent or temporary
    failure of one of our rows, a complaint (ARF), nothing (not ours, forged, a repeat), or a
    POP3 message id remembered as read."""

    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"
    IGNORED = "ignored"
    READ = "read"


class BroadcastState(StrEnum):
    """A broadcast: a draft until it starts (now, or at its `send_at` once scheduled)."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class RecordMailingState(StrEnum):
    """A record mailing is a draft until sent; done once none of its rows is pending."""

    DRAFT = "draft"
    SENDING = "sending"
    DONE = "done"


class StepState(StrEnum):
    """A step of the first-start guide (automatic mails' operations page); not stored."""

    DONE = "done"
    NEXT = "next"
    LATER = "later"


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"


class RelayMode(StrEnum):
    """How a store's mail leaves: the desk's relay, the store's own, or Rakuten's (SMTP AUTH)."""

    SYSTEM = "system"
    OWN = "own"
    RAKUTEN = "rakuten"


class Channel(StrEnum):
    """A store's sales channel."""

    RAKUTEN = "rakuten"
    AMAZON = "amazon"
    AUPAY = "aupay"
    YAHOO = "yahoo"
    OWN = "own"
    B2B = "b2b"
    OTHER = "other"


class ApiScope(StrEnum):
    """What an API token may do: write orders, shipments and quotes (`records`), write members,
    create and run broadcasts, or read (every GET). A GET is also allowed by the scope of the
    resource it reads."""

    RECORDS = "records"
    MEMBERS = "members"
    BROADCASTS = "broadcasts"
    READ = "read"


def check_in(column: str, values) -> str:
    """The SQL of a CHECK constraint: `column` holds one of `values` (an enum or members)."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"
