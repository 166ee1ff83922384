"""The member filter: URL arguments turned into a query (and a member's device, in SQL).

The same filter feeds the member list, its match count and a broadcast's audience, so what
staff see in the list is exactly who a "send to all matches" broadcast reaches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    any_,
    bindparam,
    case,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql

from shopmail.extensions import db
from shopmail.mail.addresses import DEFAULT_MOBILE_DOMAINS
from shopmail.models import Broadcast, Member

# Every URL argument the filter understands; anything else is ignored (and not stored).
FILTER_KEYS = (
    "invalid",
    "wants_mail",
    "last_purchase",
    "purchased_from",
    "purchased_to",
    "business_type",
    "industry",
    "group",
    "q",
    "address",
    "bounced",
    "broadcast",
)
YES_NO = ("yes", "no")
LAST_PURCHASE = ("never", "any")
# address: none (empty), given, or shared — the same address (in any case) as another member
# the rest of the filter matches; a broadcast sends one copy per address (`one_per_address`).
ADDRESS = ("none", "given", "shared")


@dataclass
class MemberFilter:
    """The filter as the URL gives it; `errors` holds what could not be understood."""

    args: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def conditions(self, seen: frozenset[int] = frozenset()) -> list[ColumnElement[bool]]:
        """`seen`: the broadcasts whose audience this filter is part of (no loop)."""
        out = self._plain_conditions(seen)
        address = self.args.get("address")
        if address == "none":
            out.append(Member.email == "")
        elif address in ("given", "shared"):
            out.append(Member.email != "")
        if address == "shared":
            shared = (
                select(func.lower(Member.email))
                .where(*out)
                .group_by(func.lower(Member.email))
                .having(func.count() > 1)
                .correlate(None)
            )
            out.append(func.lower(Member.email).in_(shared))
        return out

    def _plain_conditions(self, seen: frozenset[int]) -> list[ColumnElement[bool]]:
        a, out = self.args, []
        if "broadcast" in a:
            out.extend(_broadcast_audience(a["broadcast"], seen))
        if a.get("bounced") in YES_NO:
            out.append(
                (Member.hard_bounces > 0) if a["bounced"] == "yes" else (Member.hard_bounces == 0)
            )
        if a.get("invalid") in YES_NO:
            out.append(Member.email_invalid.is_(a["invalid"] == "yes"))
        if a.get("wants_mail") in YES_NO:
            out.append(Member.wants_mail.is_(a["wants_mail"] == "yes"))
        if a.get("last_purchase") == "never":
            out.append(Member.last_purchase_on.is_(None))
        elif a.get("last_purchase") == "any":
            out.append(Member.last_purchase_on.isnot(None))
        if (start := self._date("purchased_from")) is not None:
            out.append(Member.last_purchase_on >= start)
        if (end := self._date("purchased_to")) is not None:
            out.append(Member.last_purchase_on <= end)
        for key, column in (
            ("business_type", Member.business_type),
            ("industry", Member.industry),
            ("group", Member.display_group),
        ):
            if a.get(key):
                out.append(column == a[key])
        if text := a.get("q", "").strip():
            out.append(
                or_(
                    *(
                        column.icontains(text, autoescape=True)
                        for column in (
                            Member.company,
                            Member.contact_name,
                            Member.email,
                            Member.number,
                        )
                    )
                )
            )
        return out

    def _date(self, key: str) -> date | None:
        value = self.args.get(key, "")
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None


def audience_conditions(
    broadcast: Broadcast, seen: frozenset[int] = frozenset()
) -> list[ColumnElement[bool]]:
    """Whom a broadcast is addressed to: its ticked members, or its stored filter."""
    if broadcast.member_ids is not None:
        return [Member.id.in_(broadcast.member_ids)]
    return parse_filter(broadcast.member_filter or {}).conditions(seen | {broadcast.id})


def _broadcast_audience(value: str, seen: frozenset[int]) -> list[ColumnElement[bool]]:
    # `broadcast=<id>`: the members page lists a broadcast's audience (its forecast links here);
    # a draft sent from that page keeps it, so it reaches the very members the page showed.
    broadcast = db.session.get(Broadcast, int(value)) if value.isdigit() else None
    if broadcast is None or broadcast.id in seen:
        return [false()]
    return audience_conditions(broadcast, seen)


def device_of_email() -> ColumnElement[str]:
    """`mail.addresses.device_of` of a member's address, in SQL (for rows made by one
    INSERT … SELECT): "mobile" on a carrier domain or one of its subdomains, else "pc".
    On PostgreSQL one `LIKE ANY` of the suffixes "@domain" and ".domain" (its regular
    expressions cost ~10 µs a row, five times as much: a 20,000-member start spent a quarter of
    its time deciding devices); on SQLite one `REGEXP` (Python's, which SQLAlchemy's pysqlite
    dialect provides), cheaper there than a LIKE per domain."""
    address = func.lower(func.trim(Member.email))
    if db.session.get_bind().dialect.name == "postgresql":
        # (A mail domain is letters, digits, hyphens and dots: no LIKE wildcard.)
        suffixes = [f"%{mark}{d}" for d in DEFAULT_MOBILE_DOMAINS for mark in "@."]
        patterns = bindparam(None, suffixes, type_=postgresql.ARRAY(String))
        mobile = address.like(any_(patterns))
    else:
        domains = "|".join(re.escape(domain) for domain in DEFAULT_MOBILE_DOMAINS)
        mobile = address.regexp_match(f"[@.]({domains})$")
    return case((mobile, "mobile"), else_="pc")


def one_per_address(conditions: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    """Of the members matching `conditions`, the oldest of each address (in any case)."""
    first = (
        select(func.min(Member.id))
        .where(*conditions)
        .group_by(func.lower(Member.email))
        .correlate(None)
    )
    return Member.id.in_(first)


def parse_filter(args: Mapping[str, str]) -> MemberFilter:
    """Keep the known, non-empty arguments; note dates that are not dates."""
    kept = {k: str(args.get(k, "")).strip() for k in FILTER_KEYS}
    kept = {k: v for k, v in kept.items() if v}
    errors = []
    for key in ("purchased_from", "purchased_to"):
        if key in kept:
            try:
                date.fromisoformat(kept[key])
            except ValueError:
                errors.append(str(_l("“%(value)s” is not a date (YYYY-MM-DD).", value=kept[key])))
                del kept[key]
    return MemberFilter(kept, errors)


def member_query(args: Mapping[str, str] | MemberFilter) -> Select:
    """The members the URL arguments ask for, oldest member first."""
    wanted = args if isinstance(args, MemberFilter) else parse_filter(args)
    return select(Member).where(*wanted.conditions()).order_by(Member.id)
