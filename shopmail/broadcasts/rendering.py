"""A broadcast's mail for one member: rendered from the broadcast at send time.

Recipient rows carry no body; the send loop calls `build_broadcast_mails` (the renderer of
"broadcast" rows in `jobs.RENDERERS`) for a chunk of rows: the broadcast is prepared once per
chunk, the chunk's members are read in one query, and each copy gets its own tags and its own
one-click unsubscribe link. The confirm page's preview and the admin copy use the same code.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import select

from shopmail.broadcasts.unsubscribe import unsubscribe_url
from shopmail.core import merge, sending
from shopmail.core.sending import Content
from shopmail.extensions import db
from shopmail.mail import tags
from shopmail.mail.addresses import AddressError, parse_address
from shopmail.mail.compose import Mail
from shopmail.mail.html import MjmlError, html_to_text, mjml_to_html, sanitize_html
from shopmail.mail.transport import Outcome, Result
from shopmail.models import Broadcast, Member, Message, Store

ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass(frozen=True)
class Prepared:
    """What every copy of one broadcast shares: the templates with their tags still in."""

    subject: str
    text: str
    html: str | None
    signature: bool


def prepare(broadcast: Broadcast) -> Prepared:
    html = broadcast.html if broadcast.format != "text" else None
    text = html_to_text(html) if html else broadcast.body
    return Prepared(broadcast.subject, text, html, broadcast.insert_signature)


def render_copy(prepared: Prepared, member: Member, store: Store, device: str, url: str) -> Content:
    values = {**merge.store_values(store), **merge.member_values(member, url)}
    sign = "[SIGN_M]" if device == "mobile" else "[SIGN]"
    text, html = prepared.text, prepared.html
    if prepared.signature:
        text = f"{text.rstrip()}\n\n{sign}\n"
        if html is not None:
            block = f'<div style="white-space:pre-line">{sign}</div>'
            at = html.lower().rfind("</body>")
            html = html[:at] + block + html[at:] if at >= 0 else html + block
    subject = tags.render(prepared.subject, values)
    if html is not None:
        # Member data is text: inside HTML it is escaped, never markup.
        html = tags.render(html, {k: str(escape(v)) for k, v in values.items()})
    return Content(subject, tags.render(text, values), html)


class ContentError(ValueError):
    """The subject or body cannot be sent: unknown tags, or MJML that does not render."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("; ".join(messages))


def compile_content(subject: str, body: str, fmt: str) -> str | None:
    """Check the tags and build the HTML part (None for plain text); raises ContentError."""
    errors = []
    for text in (subject, body):
        unknown = tags.find_unknown(text, "member")
        if unknown:
            error = tags.UnknownTagError(unknown, "member")
            errors.append(error.message_ja if _japanese() else error.message_en)
    html = None
    if fmt == "mjml":
        try:
            html = sanitize_html(mjml_to_html(body))
        except MjmlError as exc:
            errors.append(str(_l("The MJML template has an error: %(error)s", error=exc)))
    elif fmt == "html":
        html = sanitize_html(body)
    if errors:
        raise ContentError(errors)
    return html


def _japanese() -> bool:
    return str(get_locale()) == "ja"


def sample_url() -> str:
    """A harmless unsubscribe link for previews and the admin copy (it unsubscribes no one)."""
    return current_app.config["SHOPMAIL_BASE_URL"].rstrip("/") + "/unsubscribe/sample"


def build_broadcast_mails(rows: list[Message], store: Store) -> list[Mail | Result]:
    """The mails of a chunk of broadcast rows, in the rows' order."""
    prepared: dict[int, Prepared | None] = {}
    member_ids = [row.member_id for row in rows if row.member_id]
    members = {m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(member_ids)))}
    out: list[Mail | Result] = []
    for row in rows:
        if row.broadcast_id not in prepared:
            broadcast = db.session.get(Broadcast, row.broadcast_id)
            prepared[row.broadcast_id] = prepare(broadcast) if broadcast else None
        out.append(_mail_for(row, store, prepared[row.broadcast_id], members.get(row.member_id)))
    return out


def _mail_for(row: Message, store: Store, prepared: Prepared | None, member: Member | None):
    if prepared is None or member is None:
        return Result(Outcome.PERMANENT, None, "the member or broadcast no longer exists", "mail")
    url = unsubscribe_url(member.id, row.broadcast_id)
    try:
        parse_address(row.to_addr)
        # The admin copy is the broadcast's record; 20,000 store BCCs would not be.
        return sending.build_mail(
            row,
            store,
            render_copy(prepared, member, store, row.device, url),
            bcc=[],
            headers=(("List-Unsubscribe", f"<{url}>"), ("List-Unsubscribe-Post", ONE_CLICK)),
        )
    except (AddressError, ValueError) as exc:
        return sending.invalid_mail(exc)
