"""Reading bounce mail: delivery status notifications (RFC 3464), the common non-standard bounce
formats, and ARF feedback reports (RFC 5965, a recipient pressed "spam").

`read_report(raw)` says what a received mail reports, without deciding anything: the failed
recipients with their status code ("5.1.1") and the remote server's diagnostic, whether it is a
complaint, and the original mail's Message-ID and X-Shopmail-Id when it is quoted. DSNs are read
from their message/delivery-status part with the email package; other formats are recognised by
flufl.bounce (which finds addresses only), their code and words taken from the text around.
"""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.utils import parseaddr

from flufl.bounce import all_failures

__all__ = ["Failure", "Report", "read_report"]

_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_BASIC = re.compile(r"\b([45]\d\d)\b")
_HEADER_LINE = {
    "message-id": re.compile(r"^Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE),
    "x-shopmail-id": re.compile(r"^X-Shopmail-Id:\s*(\d{1,18})\b", re.IGNORECASE | re.MULTILINE),
}
_DIAGNOSTIC_LIMIT = 1000


@dataclass(frozen=True)
class Failure:
    """One recipient a report says could not be reached (for now, or for good)."""

    addr: str
    permanent: bool
    status: str  # the enhanced status code, e.g. "5.1.1" (RFC 3463)
    diagnostic: str  # the remote server's words, e.g. "smtp; 550 5.1.1 User unknown"

    @property
    def code(self) -> int | None:
        """The SMTP reply code in the diagnostic (550), when it names one."""
        match = _BASIC.search(self.diagnostic)
        return int(match[1]) if match else None


@dataclass
class Report:
    """What one received mail reports."""

    key: str  # what makes it the same report when it comes again: its Message-ID, or a hash
    failures: list[Failure] = field(default_factory=list)
    complaint: bool = False  # an ARF feedback report (abuse, "this is spam")
    feedback_type: str = ""
    complained_rcpt: str = ""  # ARF Original-Rcpt-To, when the reporter did not redact it
    original_message_id: str = ""
    original_shopmail_id: int | None = None

    def failures_for(self, addr: str) -> list[Failure]:
        wanted = addr.strip().lower()
        return [f for f in self.failures if f.addr.lower() == wanted]


def read_report(raw: bytes) -> Report:
    """Read a received mail; a mail that is no bounce gives a report with no failures."""
    message = email.message_from_bytes(raw)
    own_id = (message.get("Message-ID") or "").strip()
    key = f"mid:{own_id[:240]}" if own_id else f"sha256:{hashlib.sha256(raw).hexdigest()}"
    report = Report(key=key)
    _read_original(message, report)
    if _is_report(message, "feedback-report"):
        _read_feedback(message, report)
        return report
    report.failures = _dsn_failures(message)
    if not report.failures:
        report.failures = _other_failures(message)
    return report


def _is_report(message: Message, report_type: str) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and (message.get_param("report-type") or "").lower() == report_type
    )


def _parts(message: Message):
    for part in message.walk():
        if part is not message:
            yield part


def _dsn_failures(message: Message) -> list[Failure]:
    failures = []
    for part in _parts(message):
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if isinstance(blocks, str):  # a status part the parser left as text
            blocks = [HeaderParser().parsestr(b) for b in re.split(r"\r?\n\r?\n", blocks) if b]
        for block in blocks[1:] if len(blocks) > 1 else blocks:
            failure = _failure_of(block)
            if failure is not None:
                failures.append(failure)
    return failures


def _failure_of(block: Message) -> Failure | None:
    action = (block.get("Action") or "").strip().lower()
    diagnostic = _one_line(block.get("Diagnostic-Code") or "")
    status = _status_of(block.get("Status") or "") or _status_of(diagnostic)
    if action.startswith("delayed"):
        permanent = False
    elif action.startswith(("fail", "error")):
        permanent = not status.startswith("4")
    else:
        return None  # delivered, relayed, expanded: not a failure
    addr = _address_field(block.get("Original-Recipient")) or _address_field(
        block.get("Final-Recipient")
    )
    if not addr:
        return None
    if not status:
        status = "5.0.0" if permanent else "4.0.0"
    return Failure(addr, permanent, status, diagnostic[:_DIAGNOSTIC_LIMIT])


def _address_field(value: str | None) -> str:
    """`rfc822; user@example.jp` → `user@example.jp`."""
    if not value:
        return ""
    kind, _, addr = str(value).partition(";")
    addr = (addr if _ else kind).strip()
    return parseaddr(addr)[1] or addr.strip("<>")


def _status_of(text: str) -> str:
    match = _ENHANCED.search(text)
    if match:
        return ".".join(match.groups())
    basic = _BASIC.search(text)
    return f"{basic[1][0]}.0.0" if basic else ""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _other_failures(message: Message) -> list[Failure]:
    """Non-standard bounces (Exim, qmail, Postfix without DSN, Yahoo, …) via flufl.bounce."""
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # noqa: BLE001 - a detector that trips over odd mail: not a bounce we know
        return []
    if not (temporary or permanent):
        return []
    text = _text_of(message)
    out = []
    for addrs, lasting in ((permanent, True), (temporary - permanent, False)):
        for raw_addr in sorted(addrs):
            addr = raw_addr.decode("ascii", "replace")
            diagnostic = _words_about(text, addr)
            status = _status_of(diagnostic) or ("5.0.0" if lasting else "4.0.0")
            if lasting and status.startswith("4"):
                status = "5.0.0"  # flufl judged it permanent; a quoted 4xx was an earlier try
            out.append(Failure(addr, lasting, status, diagnostic))
    return out


def _text_of(message: Message) -> str:
    chunks = []
    for part in message.walk():
        if part.get_content_maintype() == "text" and not part.is_multipart():
            payload = part.get_payload(decode=True) or b""
            charset = part.get_content_charset() or "utf-8"
            try:
                chunks.append(payload.decode(charset, "replace"))
            except LookupError:
                chunks.append(payload.decode("utf-8", "replace"))
    return "\n".join(chunks)


def _words_about(text: str, addr: str) -> str:
    """The lines that mention the address and the line after (where MTAs put the reason)."""
    lines = [line.strip() for line in text.splitlines()]
    for index, line in enumerate(lines):
        if addr.lower() in line.lower():
            words = " ".join(x for x in lines[index : index + 3] if x)
            if _BASIC.search(words) or _ENHANCED.search(words):
                return words[:_DIAGNOSTIC_LIMIT]
    coded = next((line for line in lines if _ENHANCED.search(line) or _BASIC.search(line)), "")
    return coded[:_DIAGNOSTIC_LIMIT]


def _read_feedback(message: Message, report: Report) -> None:
    report.complaint = True
    for part in _parts(message):
        if part.get_content_type() != "message/feedback-report":
            continue
        payload = part.get_payload()
        fields = payload[0] if isinstance(payload, list) and payload else None
        if fields is None:
            fields = HeaderParser().parsestr(payload if isinstance(payload, str) else "")
        report.feedback_type = (fields.get("Feedback-Type") or "").strip().lower()
        report.complained_rcpt = _address_field(fields.get("Original-Rcpt-To"))
        return


def _read_original(message: Message, report: Report) -> None:
    """The original mail's Message-ID and X-Shopmail-Id, from the part that quotes it (a
    message/rfc822 or text/rfc822-headers part, or the text of a non-standard bounce)."""
    for part in message.walk():  # the top-level body too: a plain-text bounce quotes inline
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                _take_original(report, inner.get("Message-ID"), inner.get("X-Shopmail-Id"))
        elif content_type in ("text/rfc822-headers", "text/plain") and not part.is_multipart():
            text = part.get_payload(decode=True) or b""
            text = text.decode("utf-8", "replace")
            found = {name: pattern.search(text) for name, pattern in _HEADER_LINE.items()}
            _take_original(
                report,
                found["message-id"] and found["message-id"][1],
                found["x-shopmail-id"] and found["x-shopmail-id"][1],
            )
        if report.original_message_id and report.original_shopmail_id is not None:
            return


def _take_original(report: Report, message_id, shopmail_id) -> None:
    if message_id and not report.original_message_id:
        report.original_message_id = str(message_id).strip()
    if shopmail_id and report.original_shopmail_id is None:
        digits = str(shopmail_id).strip()
        if digits.isdigit() and len(digits) <= 18:
            report.original_shopmail_id = int(digits)
