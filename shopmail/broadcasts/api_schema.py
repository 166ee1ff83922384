"""The broadcast API's request and answers as pydantic models: the API validates with them and
answers in their shape, and its part of the OpenAPI document (`api_document`) is generated from
them, so the document cannot drift from what the API does."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask_babel import lazy_gettext as _l
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from shopmail.core.member_filter import FILTER_KEYS
from shopmail.core.states import BroadcastState, MessageState, RefusalSource
from shopmail.web.api_document import Answer

MAX_MEMBERS = 50_000  # member numbers in one request
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
# The message states every status answer lists, zeros included; others appear when present.
LISTED_STATES = (
    MessageState.QUEUED,
    MessageState.SENDING,
    MessageState.RETRYING,
    MessageState.SENT,
    MessageState.FAILED,
    MessageState.UNKNOWN,
)


class Request(BaseModel):
    # Strict: "yes" is not true and 1 is not text. Unknown keys are refused (typos show).
    model_config = ConfigDict(extra="forbid", strict=True)


def _no_default(schema: dict) -> None:
    schema.pop("default", None)


MemberNumber = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=ONE_LINE)]


class Audience(Request):
    """Who gets the broadcast: exactly one of `filter` and `members`."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["filter"]}, {"required": ["members"]}]}
    )
    # Left out is None (never validated); a null sent is refused like any other non-text.
    filter: str = Field(
        None,
        max_length=2000,
        description="The member list's query string, as its page puts it in the URL, e.g. "
        f"industry=食品&wants_mail=yes (keys: {', '.join(FILTER_KEYS)}; page is ignored); "
        "empty for every member.",
        json_schema_extra=_no_default,
    )
    members: list[MemberNumber] = Field(
        None,
        min_length=1,
        max_length=MAX_MEMBERS,
        description="Member numbers.",
        json_schema_extra=_no_default,
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Audience:
        if (self.filter is None) == (self.members is None):
            raise PydanticCustomError("one_audience", "give either filter or members")
        return self


class BroadcastRequest(Request):
    """A broadcast draft, as the compose page writes it. Created only when it can be sent
    (the confirm page's checks); start it with POST /broadcasts/{id}/start."""

    store: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=ONE_LINE)] = Field(
        description="The sending store's code."
    )
    subject: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=ONE_LINE),
    ] = Field(description="May hold member tags such as [COMPANY].")
    body: Annotated[str, StringConstraints(min_length=1, max_length=500_000)] = Field(
        description="Text, HTML or MJML (see format), with member tags such as [MEMBER_NAME]."
    )
    format: Literal["text", "html", "mjml"] = "text"
    audience: Audience
    insert_signature: bool = Field(True, description="Add the store's signature.")
    only_wanting_mail: bool = Field(True, description="Leave out members who want no mail.")


class TestSendRequest(Request):
    """A test send: the copy one audience member gets, to addresses you name."""

    __test__ = False  # not a pytest test class, despite its name

    to: list[Annotated[str, StringConstraints(max_length=254)]] = Field(
        description="1 to 5 addresses to send the test to (the desk's address rules; no "
        "Rakuten mask address)."
    )
    member: MemberNumber | None = Field(
        None,
        description="The member number whose copy is sent (their tags filled in); left out: "
        "the broadcast's first recipient.",
        json_schema_extra=_no_default,
    )


class TestSendAccepted(Answer):
    __test__ = False

    id: int = Field(description="The broadcast's id.")
    member: str = Field(description="The member number whose copy was sent.")
    to: list[str] = Field(description="The addresses the test copy goes to.")
    subject: str = Field(description="The test copy's subject, starting with 「[テスト]」.")


class StartRequest(Request):
    """Start now (no body, or no send_at), or at a time: the broadcast is then scheduled."""

    send_at: AwareDatetime = Field(
        None,
        strict=False,
        description="When to start, ISO 8601 with its offset (e.g. 2026-12-24T10:00:00+09:00): "
        "later than now and at most 90 days ahead. The broadcast is `scheduled` until then; "
        "its quota is reserved when it starts, and a broadcast that does not fit the quota "
        "then is not sent (it is a draft again). On a scheduled broadcast: moves its time.",
        json_schema_extra=_no_default,
    )


class BroadcastCreated(Answer):
    id: int
    state: BroadcastState
    sendable: int = Field(ge=0, description="Mails it will send (the confirm page's number).")
    unsendable: int = Field(
        ge=0, description="Matching members with an empty or flagged-invalid address."
    )
    matches: int = Field(ge=0, description="Members the audience matches.")
    not_wanting_mail: int = Field(
        ge=0, description="Sendable members who want no mail (left out when only_wanting_mail)."
    )


NOTES = {
    MessageState.UNKNOWN: "The connection died after the data was sent: it may have arrived.",
    MessageState.DELETED: "Cancelled before they were sent.",
    MessageState.BOUNCED: "Sent, then a permanent bounce (DSN) came back.",
}
# The broadcast's member copies by message state: every state a field, the listed ones always
# given (zeros included), any other only when there are such copies.
Counts = create_model(
    "Counts",
    __base__=Answer,
    **{
        str(state): (
            int,
            Field(
                ... if state in LISTED_STATES else 0,
                ge=0,
                description=NOTES.get(state)
                or (None if state in LISTED_STATES else "Only when there are any."),
            ),
        )
        for state in MessageState
    },
)


class BroadcastStatus(Answer):
    id: int
    state: BroadcastState
    store: str | None
    subject: str
    total: int = Field(ge=0, description="Member copies queued when it started.")
    counts: Counts
    created_at: datetime
    send_at: datetime | None = Field(description="When a scheduled broadcast is to start.")
    started_at: datetime | None
    finished_at: datetime | None


class Refusal(Answer):
    number: str = Field(description="The member's number.")
    company: str
    email: str
    code: int | None = Field(description="The mail server's reply code.")
    reply: str = Field(description="The mail server's answer (for a bounce, its diagnostic).")
    source: RefusalSource = Field(
        description="smtp: refused while sending (5xx to RCPT or DATA); bounce: a permanent "
        "bounce came back after the relay took the mail; address: not an e-mail address."
    )
    status: str = Field(description='The bounce\'s status code ("5.1.1"); "" for the others.')
    flagged_invalid: bool = Field(description="The member's address is flagged invalid.")


class Refusals(Answer):
    id: int
    refused: list[Refusal]


class ResendAccepted(Answer):
    id: int = Field(description="The broadcast's id.")
    queued: int = Field(
        ge=0,
        description="Copies queued again: those that were not delivered (the mail server could "
        "not be reached, or the retries ran out). 0 when there is none.",
    )
    unknown: int = Field(
        ge=0,
        description="Copies whose connection was lost after they were handed over: they may "
        "have arrived and are not sent again (staff may tick them on the result page).",
    )


def read_request(
    data: object, model: type[Request] = BroadcastRequest
) -> tuple[Request | None, list[tuple[str, object]]]:
    """The request body checked against the model: the model, or (field, message) per problem."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [(_field(e["loc"]), _message(e)) for e in exc.errors()]


def _field(loc: tuple) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "request"


def _message(error: dict) -> object:
    kind, ctx = error["type"], error.get("ctx", {})
    simple = {
        "missing": _l("is required"),
        "extra_forbidden": _l("is not a known field"),
        "string_type": _l("must be text"),
        "bool_type": _l("must be true or false"),
        "list_type": _l("must be a list"),
        "model_type": _l("must be an object"),
        "model_attributes_type": _l("must be an object"),
        "dict_type": _l("must be an object"),
        "string_pattern_mismatch": _l("must not contain control characters"),
        "string_too_short": _l("must not be empty"),
        "one_audience": _l("give either filter or members"),
    }
    if kind in simple:
        return simple[kind]
    if kind == "literal_error":
        return _l("must be one of: %(choices)s", choices="text, html, mjml")
    if kind == "string_too_long":
        return _l("must be at most %(n)s characters", n=ctx.get("max_length"))
    if kind == "too_short":
        return _l("must list at least one member")
    if kind == "too_long":
        return _l("must list at most %(n)s members", n=ctx.get("max_length"))
    return error["msg"]
