"""The confirm step's pre-flight forecast: the quota left after this send, when it should be
done at the relay's pace, and who is left out and why (each reason a link to those members).

Every count is the audience's (`drafts.audience`), the numbers starting sends; the finish time
is a model, said in words on the page: messages ÷ min(the relay's pace, its sessions × a
per-session rate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from shopmail.broadcasts import quota
from shopmail.broadcasts.drafts import Audience
from shopmail.core import relays
from shopmail.extensions import db
from shopmail.models import Broadcast, Store

# Mails one SMTP session hands over in a minute (a mail a second: the relay's answers, a
# connection now and then): an assumption, said on the page.
PER_SESSION_PER_MINUTE = 60


@dataclass(frozen=True)
class Exclusion:
    """Members the broadcast leaves out for one reason, and the member list's filter for them."""

    reason: str  # no_address, invalid, bounced, no_mail, duplicate
    count: int
    filter: dict[str, str]


@dataclass(frozen=True)
class Forecast:
    recipients: int
    quota: quota.QuotaStatus
    sessions: int
    pace_per_minute: int  # 0: the relay sets none
    per_session_per_minute: int
    minutes: int
    finish_at: datetime
    exclusions: list[Exclusion]

    @property
    def quota_left_after(self) -> int:
        return max(self.quota.left - self.recipients, 0)

    @property
    def per_minute(self) -> int:
        """The rate the model assumes: the pace, or what the sessions can carry if less."""
        return _rate(self.sessions, self.pace_per_minute)


def _rate(sessions: int, pace_per_minute: int) -> int:
    carried = sessions * PER_SESSION_PER_MINUTE
    return min(pace_per_minute, carried) if pace_per_minute else carried


def forecast(broadcast: Broadcast, audience: Audience, start_at: datetime) -> Forecast:
    """The forecast for starting `broadcast` (whose audience is `audience`) at `start_at`."""
    limits = relays.limits_for(db.session.get(Store, broadcast.store_id))
    paces = [limits.per_minute] if limits.per_minute else []
    if limits.per_hour:
        paces.append(max(limits.per_hour // 60, 1))
    pace = min(paces) if paces else 0
    minutes = max(math.ceil(audience.final / _rate(limits.sessions, pace)), 1)
    return Forecast(
        recipients=audience.final,
        quota=quota.status(quota.month_of(start_at)),
        sessions=limits.sessions,
        pace_per_minute=pace,
        per_session_per_minute=PER_SESSION_PER_MINUTE,
        minutes=minutes,
        finish_at=start_at + timedelta(minutes=minutes),
        exclusions=exclusions(broadcast, audience),
    )


def exclusions(broadcast: Broadcast, audience: Audience) -> list[Exclusion]:
    """Why members of the audience get no copy: each member counted once, in this order."""
    wanting = {"wants_mail": "yes"} if broadcast.only_wanting else {}
    found = [
        Exclusion("no_address", audience.empty, {"address": "none"}),
        Exclusion(
            "invalid",
            audience.invalid - audience.bounced,
            {"address": "given", "invalid": "yes", "bounced": "no"},
        ),
        Exclusion(
            "bounced", audience.bounced, {"address": "given", "invalid": "yes", "bounced": "yes"}
        ),
        Exclusion(
            "no_mail",
            audience.sendable_no_mail if broadcast.only_wanting else 0,
            {"address": "given", "invalid": "no", "wants_mail": "no"},
        ),
        Exclusion(
            "duplicate", audience.duplicates, {"address": "shared", "invalid": "no", **wanting}
        ),
    ]
    return [
        Exclusion(e.reason, e.count, {"broadcast": str(broadcast.id), **e.filter})
        for e in found
        if e.count
    ]
