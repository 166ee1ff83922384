"""Members: the list's pages and choices, and staff edits (address, invalid flag).

The filter itself is `core.member_filter`, shared with broadcasts."""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, select

from shopmail.core import audit
from shopmail.extensions import db
from shopmail.mail.addresses import parse_address
from shopmail.models import Member, User

PER_PAGE = 50


def page_of(query: Select, page: int) -> Pagination:
    """One page of 50; `.total` is the match count."""
    return db.paginate(query, page=max(page, 1), per_page=PER_PAGE, error_out=False)


def choices() -> dict[str, list[str]]:
    """Distinct business types, industries and display groups, for the filter's selects."""
    out = {}
    for key, column in (
        ("business_type", Member.business_type),
        ("industry", Member.industry),
        ("group", Member.display_group),
    ):
        out[key] = list(
            db.session.scalars(select(column).where(column != "").distinct().order_by(column))
        )
    return out


def change_address(member: Member, email: str, actor: User) -> None:
    """Staff correct a member's address; the invalid flag stays until staff clear it.

    Raises AddressError (with messages in both languages) for an address that is not one."""
    email = email.strip()
    if email:
        email = parse_address(email).addr
    if email == member.email:
        return
    audit.record(actor, "member.updated", member, email_from=member.email, email_to=email)
    member.email = email


def clear_invalid(member: Member, actor: User) -> None:
    if not member.email_invalid:
        return
    audit.record(actor, "member.invalid_cleared", member, reason=member.invalid_reason)
    member.email_invalid = False
    member.invalid_reason = ""
