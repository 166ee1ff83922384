"""What became of a broadcast's copies, for its page: the outcome split (sent, refused, bounced,
unknown, not delivered — and while it runs, still to go) and its delivery over time, both read
from the outbox in one GROUP BY each; and the copies behind them: the addresses the recipients'
side refused (5xx in the SMTP transaction, hard bounces), apart from the mails that were not
delivered because the mail server could not be reached and from the unknown ones, which may
have arrived."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import func, select

from shopmail.core import mail_stats
from shopmail.core.i18n import tokyo
from shopmail.core.states import MessageKind, MessageState
from shopmail.extensions import db
from shopmail.models import Broadcast, Member, Message
from shopmail.models.outbox import OPEN_STATES
from shopmail.web import charts

# The order of the split's bar, legend and table.
OUTCOMES = ("sent", "refused", "bounced", "unknown", "undelivered", "remaining", "deleted")
OUTCOME_LABELS = {
    "sent": _l("Sent"),
    "refused": _l("Refused"),
    "bounced": _l("Bounced"),
    "unknown": _l("Unknown (may have arrived)"),
    "undelivered": _l("Not delivered"),
    "remaining": _l("Remaining"),
    "deleted": _l("Cancelled before sending"),
}


@dataclass(frozen=True)
class Outcomes:
    counts: dict[str, int]  # outcome → copies (OUTCOMES)
    states: dict[str, int]  # state → copies, read in the same query (for the progress bar)

    def __getitem__(self, outcome: str) -> int:
        return self.counts.get(outcome, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def rows(self) -> list[tuple[str, str, int]]:
        """(outcome, label, copies) for the table: the five endings always, the rest when any."""
        return [
            (o, str(OUTCOME_LABELS[o]), self[o])
            for o in OUTCOMES
            if self[o] or o not in ("remaining", "deleted")
        ]


@dataclass(frozen=True)
class DeliveryChart:
    chart: Markup
    minutes: int  # the width of one bar
    buckets: list[mail_stats.Bucket]
    total: int


def _copies(broadcast: Broadcast) -> tuple:
    return (Message.broadcast_id == broadcast.id, Message.kind == MessageKind.BROADCAST)


def outcomes(broadcast: Broadcast) -> Outcomes:
    """A failed copy is `refused` when the recipient's side refused its address (`refused_by`),
    `undelivered` when the relay took nothing (unreachable, the retries ran out)."""
    refused = Message.refused_by.isnot(None)
    rows = db.session.execute(
        select(Message.state, refused, func.count())
        .where(*_copies(broadcast))
        .group_by(Message.state, refused)
    )
    counts = dict.fromkeys(OUTCOMES, 0)
    states: dict[str, int] = {}
    for state, was_refused, n in rows:
        counts[_outcome(state, bool(was_refused))] += n
        states[state] = states.get(state, 0) + n
    return Outcomes(counts, states)


def _outcome(state: str, refused: bool) -> str:
    if state == MessageState.FAILED:
        return "refused" if refused else "undelivered"
    if state in OPEN_STATES or state == MessageState.HELD:
        return "remaining"
    return state  # sent, bounced, unknown, deleted


def delivery(broadcast: Broadcast) -> mail_stats.Timeline:
    """Copies handed to the relay per bucket of time (bounced ones too: they were sent)."""
    return mail_stats.timeline(*_copies(broadcast))


def outcome_chart(found: Outcomes) -> Markup:
    parts = [charts.Part(o, str(OUTCOME_LABELS[o]), found[o]) for o in OUTCOMES]
    return charts.split(
        "outcome-chart",
        str(_l("What became of the mails")),
        ", ".join(f"{p.label} {p.value:,}" for p in parts if p.value) or str(_l("No mails.")),
        parts,
    )


def delivery_chart(line: mail_stats.Timeline) -> DeliveryChart | None:
    if not line.buckets:
        return None
    labels = [tokyo(b.start, "%H:%M" if line.seconds < 86400 else "%m/%d") for b in line.buckets]
    minutes = line.seconds // 60
    chart = charts.bars(
        "delivery-chart",
        str(_l("Mails sent over time")),
        str(
            _l(
                "Mails handed to the mail server per %(minutes)s minutes, %(first)s to "
                "%(last)s (Tokyo time): %(total)s in all.",
                minutes=minutes,
                first=labels[0],
                last=labels[-1],
                total=f"{line.total:,}",
            )
        ),
        labels,
        [charts.Series("sent", str(_l("Sent")), [b.count for b in line.buckets])],
        every=max(len(labels) // 8, 1),
    )
    return DeliveryChart(chart, minutes, line.buckets, line.total)


@dataclass(frozen=True)
class Refusal:
    member_id: int
    number: str
    company: str
    addr: str
    code: int | None
    reply: str
    flagged: bool
    source: str = ""  # RefusalSource: smtp, bounce, address
    status: str = ""  # the bounce's status code ("5.1.1"); empty for SMTP refusals


@dataclass(frozen=True)
class Undelivered:
    """A copy the relay never took: it could not be reached, or the retries ran out."""

    message_id: int
    member_id: int
    number: str
    company: str
    addr: str
    code: int | None
    reply: str
    attempts: int


def _copies_of(broadcast: Broadcast, *where):
    """The broadcast's member copies that match `where`, each with its member."""
    return (
        select(Message, Member)
        .join(Member, Member.id == Message.member_id)
        .where(Message.broadcast_id == broadcast.id, Message.kind == MessageKind.BROADCAST, *where)
        .order_by(Member.id)
    )


def refused_rows(broadcast: Broadcast):
    """Copies the recipient's side refused: the row says so (`refused_by`, set when the 5xx
    or the hard bounce was recorded), never guessed from a missing reply code."""
    failed_or_bounced = Message.state.in_((MessageState.FAILED, MessageState.BOUNCED))
    return _copies_of(broadcast, failed_or_bounced, Message.refused_by.isnot(None))


def undelivered_rows(broadcast: Broadcast):
    return _copies_of(broadcast, Message.state == MessageState.FAILED, Message.refused_by.is_(None))


def unknown_rows(broadcast: Broadcast):
    return _copies_of(broadcast, Message.state == MessageState.UNKNOWN)


def refused(broadcast: Broadcast) -> list[Refusal]:
    """Addresses refused for good — 5xx to RCPT or DATA, a hard bounce, an address that is
    none — with the member and the server's (or the bounce's) words."""
    out = []
    for message, member in db.session.execute(refused_rows(broadcast)):
        bounced = message.state == MessageState.BOUNCED
        out.append(
            Refusal(
                member.id,
                member.number,
                member.company,
                message.to_addr,
                _bounce_code(message) if bounced else message.last_code,
                message.bounce_diagnostic if bounced else message.last_reply,
                member.email_invalid,
                message.refused_by or "",
                message.bounce_status if bounced else "",
            )
        )
    return out


def _bounce_code(message: Message) -> int | None:
    """The SMTP code the remote server gave in its diagnostic ("smtp; 550 5.1.1 …")."""
    for word in message.bounce_diagnostic.replace(";", " ").split():
        if len(word) == 3 and word.isdigit() and word[0] in "45":
            return int(word)
    return None


def undelivered(broadcast: Broadcast) -> list[Undelivered]:
    """Copies that failed without any recipient refusing them: shown apart, sent again."""
    return _listed(undelivered_rows(broadcast))


def unknown(broadcast: Broadcast) -> list[Undelivered]:
    """Copies whose connection died after the data was handed over: they may have arrived, so
    they are listed apart and sent again only when staff tick them."""
    return _listed(unknown_rows(broadcast))


def _listed(rows) -> list[Undelivered]:
    return [
        Undelivered(
            message.id,
            member.id,
            member.number,
            member.company,
            message.to_addr,
            message.last_code,
            message.last_reply,
            message.attempts,
        )
        for message, member in db.session.execute(rows)
    ]
