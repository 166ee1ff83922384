"""The progress numbers broadcasts and record mailings show, from the outbox's count per state."""

from shopmail.core.progress import Progress


def test_counts_by_state_become_the_numbers_the_bar_shows():
    counts = {"sent": 5, "failed": 2, "unknown": 1, "queued": 1, "retrying": 1, "deleted": 2}
    progress = Progress.of(counts, ended=False)
    assert (progress.total, progress.sent, progress.failed, progress.unknown) == (12, 5, 2, 1)
    assert (progress.remaining, progress.deleted, progress.not_sent) == (2, 2, 3)
    assert progress.percent == 83  # 10 of 12 rows are no longer open, rounded down
    assert progress.running and not progress.all_sent


def test_a_given_total_is_kept_and_the_percent_never_says_100_too_early():
    progress = Progress.of({"sent": 199, "sending": 1}, total=200, ended=False)
    assert progress.total == 200 and progress.percent == 99


def test_an_ended_batch_with_every_mail_sent_is_all_sent():
    progress = Progress.of({"sent": 3}, ended=True)
    assert progress.percent == 100 and progress.all_sent and not progress.running


def test_an_ended_batch_with_a_failure_or_an_unknown_is_not_all_sent():
    assert not Progress.of({"sent": 3, "failed": 1}, ended=True).all_sent
    assert not Progress.of({"sent": 3, "unknown": 1}, ended=True).all_sent
    assert not Progress.of({"deleted": 3}, ended=True).all_sent


def test_nothing_to_send_counts_as_complete():
    progress = Progress.of({}, ended=True)
    assert (progress.total, progress.percent, progress.remaining) == (0, 100, 0)


def test_mails_waiting_for_a_retry_keep_the_bar_below_100_and_say_when():
    from datetime import UTC, datetime

    at = datetime(2026, 11, 2, 5, 7, tzinfo=UTC)
    progress = Progress.of({"sent": 998, "retrying": 2}, ended=False, next_retry_at=at)
    assert progress.percent == 99 and progress.retrying == 2 and progress.next_retry_at == at
    assert Progress.of({"sent": 3}, ended=True, next_retry_at=at).next_retry_at is None


def test_a_cancelled_batch_fills_the_bar_only_with_what_was_tried():
    progress = Progress.of({"sent": 30, "failed": 2, "deleted": 68}, ended=True, cancelled=True)
    assert progress.percent == 32 and not progress.all_sent
    assert Progress.of({"deleted": 4}, ended=True, cancelled=True).percent == 0
    assert Progress.of({}, ended=True, cancelled=True).percent == 0
    # Rows staff deleted from a batch that was not cancelled count as done.
    assert Progress.of({"sent": 2, "deleted": 2}, ended=True).percent == 100
