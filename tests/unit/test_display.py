"""Times are shown in Asia/Tokyo whatever the server's zone; amounts in yen."""

from datetime import UTC, date, datetime

from shopmail.core.i18n import tokyo, tokyo_date


def test_utc_time_is_shown_as_tokyo_wall_time():
    assert tokyo(datetime(2026, 11, 23, 15, 30, tzinfo=UTC)) == "2026-11-24 00:30"


def test_date_of_a_late_utc_evening_is_the_next_day_in_tokyo():
    assert tokyo_date(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == "2027-01-01"
    assert tokyo_date(date(2026, 5, 1)) == "2026-05-01"
    assert tokyo(None) == ""
