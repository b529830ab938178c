"""Each channel's hour has its own secret flood threshold (cases/reports/flood.py::threshold).

Someone who files junk up to the threshold and reads the marks afterwards learns whether one
report more came that hour only when the hour's offset is its lowest value: about one hour in
`per_hour + 1`, at hours and in channels they cannot foresee.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from cases.reports.flood import FloodConfig, threshold

SECRET = b"s" * 32
OTHER_SECRET = b"o" * 32
CONFIG = FloodConfig(per_hour=20)
START = datetime(2026, 3, 2)
HOURS = [START + timedelta(hours=n) for n in range(4200)]


def test_the_offset_spreads_over_every_value_and_one_report_rarely_tips_a_mark() -> None:
    """Over 4,200 hours every threshold from 20 to 40 occurs, none in more than twice its
    share, so a single report beyond what the prober filed tips a mark in about 1 hour in 21."""
    seen = Counter(threshold(CONFIG, SECRET, "sales", hour) for hour in HOURS)

    assert sorted(seen) == list(range(20, 41))
    share = len(HOURS) / 21
    assert max(seen.values()) < 2 * share
    assert seen[20] / len(HOURS) < 0.08  # the hours in which one report more tips a mark


def test_the_threshold_depends_on_the_channel_and_the_secret() -> None:
    """Knowing one channel's threshold (a quiet channel probed to the end) says nothing of
    another's in the same hour, nor does a copy of the code without the server secret."""
    sales = [threshold(CONFIG, SECRET, "sales", hour) for hour in HOURS[:500]]
    quiet = [threshold(CONFIG, SECRET, "quiet", hour) for hour in HOURS[:500]]
    guessed = [threshold(CONFIG, OTHER_SECRET, "sales", hour) for hour in HOURS[:500]]

    assert sum(a == b for a, b in zip(sales, quiet, strict=True)) < 60  # about 500 / 21
    assert sum(a == b for a, b in zip(sales, guessed, strict=True)) < 60
