"""The shared parsers and the percentage every report uses."""

from __future__ import annotations

from datetime import date

import pytest

from kefu.core.figures import percent
from kefu.core.web import parse_date, parse_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2026-11-30", date(2026, 11, 30)), (" 2026-11-30 ", date(2026, 11, 30)), ("2026-02-30", None), ("x", None),
     ("", None), (None, None)],
)  # fmt: skip
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", 12), (" 7 ", 7), ("-1", None), ("1.5", None), ("１２", 12), ("9" * 12, None), ("", None), (None, None)],
)
def test_parse_id(raw, expected):
    # Full-width digits (typed with a Chinese input method) are the same number.
    assert parse_id(raw) == expected


def test_percent():
    assert (percent(1, 3), percent(0, 5), percent(3, 0), percent(None, 4)) == (33.3, 0.0, None, 0.0)
