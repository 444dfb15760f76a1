"""Dates as people type them, read against a fixed today (dialogs/dates.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.dates import Reading, date_key, date_params, local_today, read_date
from dialogs.replies import Ref

TODAY = date(2026, 11, 20)  # a Friday
LAST_MONDAY = date(2026, 11, 16)


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        # the phrases of the brief, in the three languages
        ("es", "2 de noviembre", date(2026, 11, 2)),
        ("es", "el 2/11", date(2026, 11, 2)),
        ("es", "hace dos semanas", date(2026, 11, 6)),
        ("es", "el lunes pasado", LAST_MONDAY),
        ("es", "ayer", date(2026, 11, 19)),
        ("zh-Hans", "11月2日", date(2026, 11, 2)),
        ("zh-Hans", "上周一", date(2026, 11, 9)),  # Monday of last calendar week
        ("zh-Hans", "昨天", date(2026, 11, 19)),
        ("zh-Hans", "两周前", date(2026, 11, 6)),
        ("en", "2026-11-02", date(2026, 11, 2)),
        ("en", "last Monday", LAST_MONDAY),
        ("en", "2 weeks ago", date(2026, 11, 6)),
        ("en", "Nov 2", date(2026, 11, 2)),
        # more of the same families
        ("es", "El 2 de noviembre de 2026.", date(2026, 11, 2)),
        ("es", "antier", date(2026, 11, 18)),
        ("es", "hace 3 días", date(2026, 11, 17)),
        ("es", "el miércoles", date(2026, 11, 18)),
        ("es", "la semana pasada", date(2026, 11, 13)),
        ("es", "desde hace dos meses", date(2026, 9, 20)),
        ("es", "1º de noviembre", date(2026, 11, 1)),
        ("zh-Hans", "十一月二日", date(2026, 11, 2)),
        ("zh-Hans", "2026年11月2日", date(2026, 11, 2)),
        ("zh-Hans", "11/2", date(2026, 11, 2)),  # month first in Chinese
        ("zh-Hans", "2号", date(2026, 11, 2)),
        ("zh-Hans", "三天前", date(2026, 11, 17)),
        ("zh-Hans", "两个星期前", date(2026, 11, 6)),
        ("zh-Hans", "一个月前", date(2026, 10, 20)),
        ("zh-Hans", "星期三", date(2026, 11, 18)),
        ("zh-Hans", "２０２６－１１－０２", date(2026, 11, 2)),  # full-width
        ("en", "yesterday", date(2026, 11, 19)),
        ("en", "November 2nd, 2026", date(2026, 11, 2)),
        ("en", "the 2nd of November", date(2026, 11, 2)),
        ("en", "2/11", date(2026, 11, 2)),  # day first outside Chinese
        ("en", "11/13", date(2026, 11, 13)),  # unless the numbers say otherwise
        ("en", "two weeks ago", date(2026, 11, 6)),
        # left to dateparser
        ("es", "15 de octubre del 2026", date(2026, 10, 15)),
        ("en", "a fortnight ago", date(2026, 11, 6)),
    ],
)
def test_a_day_is_read(lang, text, expected):
    assert read_date(text, TODAY, lang) == Reading(expected)


@pytest.mark.parametrize(
    ("lang", "text", "first_day"),
    [
        ("es", "desde agosto", date(2026, 8, 1)),
        ("es", "el mes pasado", date(2026, 10, 1)),
        ("zh-Hans", "从9月开始", date(2026, 9, 1)),
        ("zh-Hans", "9月份", date(2026, 9, 1)),
        ("zh-Hans", "上个月", date(2026, 10, 1)),
        ("en", "October 2026", date(2026, 10, 1)),
        ("en", "2026-09", date(2026, 9, 1)),
        ("en", "since December", date(2025, 12, 1)),  # no year: the last December
    ],
)
def test_a_month_alone_is_a_month(lang, text, first_day):
    assert read_date(text, TODAY, lang) == Reading(first_day, month_only=True)


@pytest.mark.parametrize(
    "text",
    ["no me acuerdo", "I don't remember", "不记得了", "QuickCash", "T-12345", "去年", "2025",
     "32 de enero", "", "   ", "hace tiempo", "x" * 80],
)  # fmt: skip
def test_what_names_no_day_is_not_read(text):
    assert read_date(text, TODAY, "es") is None


def test_without_a_year_a_date_is_in_the_past_unless_it_may_be_ahead():
    assert read_date("1 de diciembre", TODAY, "es") == Reading(date(2025, 12, 1))
    assert read_date("5 de diciembre", TODAY, "es", future=True) == Reading(date(2026, 12, 5))
    assert read_date("5 de enero", TODAY, "es", future=True) == Reading(date(2027, 1, 5))
    assert read_date("5 de octubre", TODAY, "es", future=True) == Reading(date(2026, 10, 5))


def test_a_date_with_its_year_is_read_as_written_even_ahead():
    """Refusing a future date is the caller's decision (a due date may be ahead)."""
    assert read_date("2026-12-01", TODAY, "en") == Reading(date(2026, 12, 1))


def test_a_month_counts_to_its_last_day_but_not_past_today():
    assert Reading(date(2026, 10, 1), month_only=True).last_day(TODAY) == date(2026, 10, 31)
    assert Reading(date(2026, 11, 1), month_only=True).last_day(TODAY) == TODAY
    assert Reading(date(2026, 11, 2)).last_day(TODAY) == date(2026, 11, 2)


def test_today_is_the_jurisdictions_today():
    late_evening_utc = datetime(2026, 11, 20, 17, 30, tzinfo=UTC)
    assert local_today(late_evening_utc, "Asia/Shanghai") == date(2026, 11, 21)
    assert local_today(late_evening_utc, "America/Mexico_City") == date(2026, 11, 20)
    assert local_today(late_evening_utc, None) == date(2026, 11, 20)
    assert local_today(late_evening_utc, "Not/AZone") == date(2026, 11, 20)


def test_a_date_is_shown_with_its_month_as_text():
    reading = Reading(date(2026, 11, 2))
    assert date_params(reading) == {"day": 2, "month": Ref(key="date.month.11"), "year": 2026}
    assert date_key("date.noted", reading) == "date.noted.day"
    assert date_key("date.noted", Reading(date(2026, 11, 1), month_only=True)) == (
        "date.noted.month"
    )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.sampled_from(["es", "zh-Hans", "en", ""]), st.booleans())
def test_any_text_is_a_date_or_none_never_an_error(text, lang, future):
    reading = read_date(text, TODAY, lang, future=future)
    assert reading is None or reading.on.year >= TODAY.year - 30
