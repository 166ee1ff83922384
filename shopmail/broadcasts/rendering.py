"""A broadcast's mail for one member: rendered from the broadcast at send time.

Recipient rows carry no body; the send loop calls `build_broadcast_mails` (the renderer of
"broadcast" rows in `jobs.RENDERERS`) for a chunk of rows: the broadcast is prepared once per
chunk, the chunk's members are read in one query, and each copy gets its own tags and its own
one-click unsubscribe link. The confirm page's preview and the admin copy use the same code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import select

from shopmail.broadcasts.unsubscribe import unsubscribe_urls
from shopmail.core import merge, outbox, sending
from shopmail.core.outbox import Claimed
from shopmail.core.sending import Content
from shopmail.extensions import db
from shopmail.mail import content_checks, tags
from shopmail.mail.addresses import AddressError, parse_address
from shopmail.mail.compose import Mail
from shopmail.mail.html import (
    MjmlError,
    html_to_text,
    mjml_to_html,
    mjml_with_signature,
    sanitize_html,
    tags_in_attributes,
)
from shopmail.mail.transport import Outcome, Result
from shopmail.models import Broadcast, DeskSettings, Member, Store

ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass(frozen=True)
class Prepared:
    """What every copy of one broadcast shares, split once into literal parts and tag slots:
    the subject, and per device ("pc", "mobile") the text and HTML with the signature placed."""

    subject: tags.Template
    bodies: dict[str, tuple[tags.Template, tags.Template | None]]


def prepare(broadcast: Broadcast) -> Prepared:
    html = broadcast.html if broadcast.format != "text" else None
    text = html_to_text(html) if html else broadcast.body
    bodies = {}
    for device, sign in (("pc", "[SIGN]"), ("mobile", "[SIGN_M]")):
        device_text, device_html = text, html
        if broadcast.insert_signature:
            device_text = f"{text.rstrip()}\n\n{sign}\n"
            if html is not None:
                device_html = _signed_html(broadcast, html, sign)
        bodies[device] = (
            tags.Template(device_text),
            tags.Template(device_html) if device_html is not None else None,
        )
    return Prepared(tags.Template(broadcast.subject), bodies)


def render_copy(
    prepared: Prepared,
    member: Member,
    store: Store,
    device: str,
    url: str,
    store_values: dict[str, str] | None = None,
) -> Content:
    """One member's copy; `store_values` (`merge.store_values`) once per chunk, not per copy."""
    values = {**(store_values or merge.store_values(store)), **merge.member_values(member, url)}
    text, html = prepared.bodies.get(device) or prepared.bodies["pc"]
    if html is not None:
        # Member data is text: inside HTML it is escaped, never markup.
        filled = html.fill({k: str(escape(v)) for k, v in values.items()})
        # A tag inside an attribute (`<a href="[COMPANY]">`) could make a `javascript:` or
        # `data:` link of a member's data: such copies are sanitised again, after the fill.
        html = sanitize_html(filled) if tags_in_attributes(html.parts) else filled
    return Content(prepared.subject.fill(values), text.fill(values), html)


def _signed_html(broadcast: Broadcast, html: str, sign: str) -> str:
    """The HTML part with the signature inside its layout: for MJML, the last text of the last
    column (same width, font and colours); for HTML written directly, before ``</body>`` in
    the font of the mail's first styled text."""
    if broadcast.format == "mjml":
        try:
            return sanitize_html(mjml_to_html(mjml_with_signature(broadcast.body, sign)))
        except MjmlError:
            pass  # it rendered when saved; keep the saved HTML rather than fail the broadcast
    font = _FONT.search(html)
    family = font[1].strip().rstrip(",") if font else ""
    style = f"white-space:pre-line;font-family:{family}" if family else "white-space:pre-line"
    block = f'<div style="{style}">{sign}</div>'
    at = html.lower().rfind("</body>")
    return html[:at] + block + html[at:] if at >= 0 else html + block


_FONT = re.compile(r"font-family:\s*([^;\"']+)", re.IGNORECASE)


class ContentError(ValueError):
    """The subject or body cannot be sent: unknown tags, or MJML that does not render.
    `problems` pairs each message with the field it is about ("subject" or "body")."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        self.messages = [message for _, message in problems]
        super().__init__("; ".join(self.messages))


def compile_content(subject: str, body: str, fmt: str) -> str | None:
    """Check the tags and build the HTML part (None for plain text); raises ContentError."""
    problems = []
    for field, text in (("subject", subject), ("body", body)):
        unknown = tags.find_unknown(text, "member")
        if unknown:
            error = tags.UnknownTagError(unknown, "member")
            problems.append((field, error.message_ja if _japanese() else error.message_en))
    problems += [
        (f.field, f.message_ja if _japanese() else f.message_en)
        for f in content_findings(subject, body, fmt)
        if f.code == "line_bytes"
    ]
    html = None
    if fmt == "mjml":
        try:
            html = sanitize_html(mjml_to_html(body))
        except MjmlError as exc:
            detail = exc.message_ja if _japanese() else exc.message_en
            message = str(_l("The MJML template has an error: %(error)s", error=detail))
            problems.append(("body", message))
    elif fmt == "html":
        html = sanitize_html(body)
    if problems:
        raise ContentError(problems)
    return html


def content_findings(subject: str, body: str, fmt: str) -> list[content_checks.ContentWarning]:
    """The content checks of a broadcast's text (`content_checks`), with the mobile checks:
    copies go to phones too. Markup (HTML, MJML) gets no line checks."""
    return content_checks.check(
        subject,
        body,
        "member",
        mobile=True,
        line_width=DeskSettings.current().mobile_line_width,
        html=fmt != "text",
    )


def _japanese() -> bool:
    return str(get_locale()) == "ja"


def sample_url() -> str:
    """A harmless unsubscribe link for previews and the admin copy (it unsubscribes no one)."""
    return current_app.config["SHOPMAIL_BASE_URL"].rstrip("/") + "/unsubscribe/sample"


# What a copy reads of its member (`merge.member_values`), as plain rows: building ORM
# objects for a chunk's members cost more than the rest of its rendering.
_MEMBERS = select(
    Member.id,
    Member.number,
    Member.contact_name,
    Member.company,
    Member.email,
    Member.last_purchase_on,
)


def build_broadcast_mails(rows: list[Claimed], store: Store) -> list[Mail | Result]:
    """The mails of a chunk of broadcast rows, in the rows' order."""
    member_ids = [row.member_id for row in rows if row.member_id]
    found = db.session.execute(_MEMBERS.where(outbox.any_of(Member.id, member_ids)))
    members = {m.id: m for m in found}
    values = merge.store_values(store)
    unsubscribe_url = unsubscribe_urls()
    chunk_prepared: dict[int, Prepared | None] = {}
    out: list[Mail | Result] = []
    for row in rows:
        if row.broadcast_id not in chunk_prepared:
            chunk_prepared[row.broadcast_id] = _prepared(row.broadcast_id)
        prepared = chunk_prepared[row.broadcast_id]
        member = members.get(row.member_id)
        if prepared is None or member is None:
            reply = "the member or broadcast no longer exists"
            out.append(Result(Outcome.PERMANENT, None, reply, "mail"))
            continue
        url = unsubscribe_url(member.id, row.broadcast_id)
        try:
            parse_address(row.to_addr)
        except AddressError as exc:
            out.append(sending.invalid_mail(exc, "address"))
            continue
        try:
            # The admin copy is the broadcast's record; 20,000 store BCCs would not be.
            mail = sending.build_mail(
                row,
                store,
                render_copy(prepared, member, store, row.device, url, values),
                bcc=[],
                headers=(("List-Unsubscribe", f"<{url}>"), ("List-Unsubscribe-Post", ONE_CLICK)),
            )
        except (AddressError, ValueError) as exc:
            mail = sending.invalid_mail(exc)
        out.append(mail)
    return out


# The split templates are kept for a broadcast's next chunks, keyed by everything they are
# made of (hashing the texts once per chunk is cheap; splitting them is not).
_PREPARED: dict[tuple, Prepared] = {}


def _prepared(broadcast_id: int) -> Prepared | None:
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return None
    key = (
        broadcast.id,
        broadcast.format,
        broadcast.insert_signature,
        broadcast.subject,
        broadcast.body,
        broadcast.html,
    )
    prepared = _PREPARED.get(key)
    if prepared is None:
        if len(_PREPARED) > 16:
            _PREPARED.clear()
        prepared = _PREPARED[key] = prepare(broadcast)
    return prepared
