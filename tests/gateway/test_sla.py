"""Working hours between two instants: the inverse of the SLA's due time, on the official calendar."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gateway.sla import LOCAL, add_working_hours, working_hours_between


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        # two hours before National Day, then the week off, then two hours on 8 October
        (datetime(2024, 9, 30, 16, 0, tzinfo=LOCAL), datetime(2024, 10, 8, 11, 0, tzinfo=LOCAL), 4.0),
        # a Saturday morning to the make-up working Sunday's lunchtime: only Sunday counts
        (datetime(2024, 9, 28, 10, 0, tzinfo=LOCAL), datetime(2024, 9, 29, 13, 0, tzinfo=LOCAL), 4.0),
        # the evening and the night do not count
        (datetime(2024, 10, 9, 17, 30, tzinfo=LOCAL), datetime(2024, 10, 10, 9, 30, tzinfo=LOCAL), 1.0),
        # within one working day, in UTC
        (
            datetime(2024, 10, 9, 1, 0, tzinfo=timezone.utc),
            datetime(2024, 10, 9, 2, 15, tzinfo=timezone.utc),
            1.25,
        ),
        # before opening and after closing on the same day: the whole day
        (datetime(2024, 10, 9, 7, 0, tzinfo=LOCAL), datetime(2024, 10, 9, 20, 0, tzinfo=LOCAL), 9.0),
        # the end before the start
        (datetime(2024, 10, 9, 12, 0, tzinfo=LOCAL), datetime(2024, 10, 9, 10, 0, tzinfo=LOCAL), 0.0),
    ],
)
def test_working_hours_between_counts_the_official_working_day(
    start: datetime, end: datetime, hours: float
) -> None:
    assert working_hours_between(start, end) == pytest.approx(hours)


def test_working_hours_between_inverts_add_working_hours() -> None:
    start = datetime(2024, 12, 27, 16, 20, tzinfo=LOCAL)  # across a weekend and New Year's Day
    for hours in (0.5, 4.0, 13.25, 40.0):
        assert working_hours_between(start, add_working_hours(start, hours)) == pytest.approx(hours)
    assert working_hours_between(start, start + timedelta(hours=3), 8, 17) == pytest.approx(0.67, abs=0.01)
