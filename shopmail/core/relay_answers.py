"""A relay's answer in a merchant's words: what happened and what to check, with the relay's
own words kept beside it. The store's test mail and the send history both say it this way."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext

from shopmail.mail.transport import Outcome, Result

_REPLY_CODE = re.compile(r"^\s*(\d{3})\b")


@dataclass(frozen=True)
class RelayAnswer:
    """The relay's answer in plain words, and its own words beneath."""

    ok: bool
    message: str
    reply: str


def explain(result: Result, to_addr: str, failed: str | None = None) -> RelayAnswer:
    """A relay's answer as a merchant would say it: sent, or what to check. `failed` is what
    to say when the answer fits none of the known cases ("The mail could not be sent.")."""
    found = _REPLY_CODE.match(result.reply)
    code = result.code or (int(found.group(1)) if found else None)
    reply = f"{result.code} {result.reply}" if result.code else result.reply
    lowered = result.reply.lower()
    if result.outcome is Outcome.SENT:
        return RelayAnswer(True, gettext("Sent: %(reply)s", reply=reply), reply)
    if result.outcome is Outcome.UNKNOWN:
        message = gettext(
            "The connection ended after the mail was handed over: it may have arrived. "
            "Ask the recipient before sending it again."
        )
    elif code in (530, 534, 535) or "smtp auth" in lowered or "authentication" in lowered:
        message = gettext(
            "Authentication failed: the mail server did not accept the user (SMTP AUTH ID) "
            "and password. Check them, save, and try again."
        )
    elif code is None and any(w in lowered for w in ("connect", "set-up", "timed out", "lost")):
        message = gettext(
            "Could not connect to the mail server. Check the host name, port and encryption, "
            "and that the server is reachable."
        )
    elif code in (550, 551, 552, 553):
        message = gettext(
            "The recipient was refused: the mail server did not accept %(to)s.", to=to_addr
        )
    elif code is not None and 400 <= code < 500:
        message = gettext("The mail server refused for now. Try again in a few minutes.")
    elif code is not None and code >= 500:
        message = gettext("The mail server refused the mail.")
    else:
        message = failed or gettext("The mail could not be sent.")
    return RelayAnswer(False, message, reply)
