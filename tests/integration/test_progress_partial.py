"""The `_progress` partial polls itself while the work runs and carries no trigger once ended
(DESIGN.md, "Requests and pages"), for broadcasts and record mailings alike."""

from __future__ import annotations

from flask import render_template_string

from shopmail.core.progress import Progress
from tests.conftest import run_worker
from tests.integration.test_broadcasts import add_members, broadcast_to

POLL = 'hx-trigger="load delay:1s"'
BAR = (
    '{% import "_macros.html" as m %}'
    '{% call(part) m.progress_bar(progress, "/poll") %}[{{ part }}]{% endcall %}'
)


def test_the_progress_bar_polls_while_running_and_not_once_ended(app):
    with app.test_request_context():
        running = render_template_string(BAR, progress=Progress.of({"queued": 3}, ended=False))
        ended = render_template_string(BAR, progress=Progress.of({"sent": 3}, ended=True))
    assert POLL in running and 'hx-get="/poll"' in running and 'hx-swap="outerHTML"' in running
    assert 'aria-valuenow="0"' in running and running.index("[above]") < running.index("[below]")
    assert "hx-trigger" not in ended and "hx-get" not in ended and 'aria-valuenow="100"' in ended


def test_a_sending_broadcast_polls_and_a_finished_one_does_not(
    app, staff_client, mail_store, smtp_server
):
    add_members(4)
    bid = broadcast_to(staff_client, mail_store)
    url = f"/broadcasts/{bid}/progress"
    partial = staff_client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in partial and POLL in partial and f'hx-get="{url}"' in partial
    assert 'data-count="remaining">4<' in partial and 'aria-valuenow="0"' in partial

    run_worker(app)
    assert len(smtp_server.wait_for(4)) == 4
    partial = staff_client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-trigger" not in partial and 'aria-valuenow="100"' in partial
    assert 'data-count="sent">4<' in partial and 'data-count="remaining">0<' in partial
