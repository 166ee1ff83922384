"""The broadcast API's part of the OpenAPI document (`web.api_document`): its paths, with the
request and answer models of `api_schema`."""

from __future__ import annotations

from shopmail.broadcasts.api_schema import (
    BroadcastCreated,
    BroadcastRequest,
    BroadcastStatus,
    Refusals,
    ResendAccepted,
    StartRequest,
    TestSendAccepted,
    TestSendRequest,
)
from shopmail.core.states import ApiScope
from shopmail.web.api_document import Part, body, errors, response, security

ERRORS = {
    404: "No broadcast has this id.",
    409: "The state does not allow it (it started, ended or was cancelled), or it would send "
    "more mails than are left of this month's quota (the message names both numbers).",
    422: "The broadcast cannot be sent as it is (unknown tags, broken MJML, no subject or "
    "body, a store without a From address, no member to send to); every problem names its "
    "field.",
}
CREATE_ERRORS = {
    409: "It would send more mails than are left of this month's quota (the message names "
    "both numbers).",
    422: "Validation failed (an unknown store or member number, a filter the member list does "
    "not know), or the broadcast cannot be sent as it is (unknown tags, broken MJML, a store "
    "without a From address, no member to send to); every problem names its field.",
}
TEST_ERRORS = (
    "Nothing was sent: no address, more than five, an address that is not valid or is a "
    "Rakuten mask address, a member who is not among the recipients, or a broadcast without "
    "subject, body or a store with a From address; the problem names its field."
)
TEST_LIMIT = "Too many requests for this token, or too many test copies in a short time."
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
RESEND_CONFLICT = (
    "The broadcast has not ended (or was cancelled), or sending the copies again would pass "
    "this month's quota (nothing is queued; the message names both numbers)."
)


CONFLICTS = {
    "start": ERRORS[409],
    "pause": "Only a broadcast that is sending can be paused.",
    "resume": "Only a paused broadcast can be resumed.",
    "cancel": "Only a broadcast that is a draft, scheduled, sending or paused can be cancelled.",
}


def _operation(name: str, summary: str, answers: dict, method: str, **more) -> dict:
    scope = security(ApiScope.BROADCASTS, method)
    return {
        "operationId": name,
        "summary": summary,
        "security": scope,
        **more,
        "responses": answers,
    }


def _control(action: str, status: int, summary: str) -> dict:
    problems = {404: ERRORS[404], 409: CONFLICTS[action]}
    if action == "start":
        problems[422] = ERRORS[422]
    answers = {
        str(status): response("The broadcast's state and counts now.", "BroadcastStatus"),
        **errors(problems, 401, 403, 429),
    }
    return {"post": _operation(f"{action}_broadcast", summary, answers, "post", parameters=[ID])}


def _start() -> dict:
    path = _control(
        "start",
        202,
        "Start sending now (a row per recipient, the quota reserved), or schedule it (send_at)",
    )
    path["post"]["requestBody"] = {**body("StartRequest"), "required": False}
    return path


def _paths(schemas: dict) -> dict:
    created = response("The draft, with the counts of the confirm page.", "BroadcastCreated")
    return {
        "/broadcasts": {
            "post": _operation(
                "create_broadcast",
                "Write a broadcast draft to members",
                {
                    "201": created,
                    **errors(CREATE_ERRORS, 401, 403, 413, 429),
                },
                "post",
                requestBody=body("BroadcastRequest"),
            )
        },
        "/broadcasts/{id}": {
            "get": _operation(
                "broadcast_status",
                "A broadcast's state and counts",
                {
                    "200": response("State, counts and times.", "BroadcastStatus"),
                    **errors({404: ERRORS[404]}, 401, 403, 429),
                },
                "get",
                parameters=[ID],
            )
        },
        "/broadcasts/{id}/refused": {
            "get": _operation(
                "broadcast_refused",
                "The addresses the mail server refused for good",
                {
                    "200": response("As the broadcast's result page lists them.", "Refusals"),
                    **errors({404: ERRORS[404]}, 401, 403, 429),
                },
                "get",
                parameters=[ID],
            )
        },
        "/broadcasts/{id}/start": _start(),
        "/broadcasts/{id}/test": {
            "post": _operation(
                "test_broadcast",
                "Send one member's copy as a test to up to five addresses",
                {
                    "202": response(
                        "Queued: the copy, its subject starting with 「[テスト]」, goes to each "
                        "address through the store's relay. Not counted in the quota; listed in "
                        "the history as a test mail.",
                        "TestSendAccepted",
                    ),
                    **errors({404: ERRORS[404], 422: TEST_ERRORS, 429: TEST_LIMIT}, 401, 403),
                },
                "post",
                parameters=[ID],
                requestBody=body("TestSendRequest"),
            )
        },
        "/broadcasts/{id}/resend-failed": {
            "post": _operation(
                "resend_failed_broadcast",
                "Send the undelivered copies of an ended broadcast again",
                {
                    "202": response(
                        "Queued: each copy the mail server never took (unreachable, retries run "
                        "out) goes again, counted in this month's quota. Never the sent, the "
                        "refused or the unknown ones. Calling again while they are sent is a 409.",
                        "ResendAccepted",
                    ),
                    **errors({404: ERRORS[404], 409: RESEND_CONFLICT}, 401, 403, 429),
                },
                "post",
                parameters=[ID],
            )
        },
        "/broadcasts/{id}/pause": _control("pause", 200, "Pause sending"),
        "/broadcasts/{id}/resume": _control("resume", 202, "Resume sending"),
        "/broadcasts/{id}/cancel": _control(
            "cancel", 200, "Stop for good: unsent copies are deleted, their quota given back"
        ),
    }


PART = Part(
    summary="Write, start, pause, resume and cancel member broadcasts, and read their progress "
    "and the addresses refused; they are the broadcasts the desk's pages show. Times are UTC "
    "with an offset.",
    models=(
        BroadcastRequest,
        BroadcastCreated,
        BroadcastStatus,
        Refusals,
        ResendAccepted,
        StartRequest,
        TestSendRequest,
        TestSendAccepted,
    ),
    paths=_paths,
)
