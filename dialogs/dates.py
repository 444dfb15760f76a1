"""Dates as people type them: "2 de noviembre", "el lunes pasado", "上周一", "2 weeks ago".

:func:`read_date` turns a short answer into a day, relative to the user's today (in the
jurisdiction's time zone: :func:`local_today`). It reads in two passes:

1. Small rules for the forms people type most, in Spanish, Chinese and English: ISO and
   numeric dates (day first in Spanish and English, month first in Chinese, whichever the
   numbers allow), "2 de noviembre" / "Nov 2" / "11月2日", a month alone, "ayer" / "昨天" /
   "yesterday", "hace dos semanas" / "两周前" / "2 weeks ago", a weekday ("el lunes pasado",
   "last Monday", "上周一"). ``dateparser`` misses these or, for Chinese, reads some wrongly
   ("11月2日", "上周一", "两周前", "hace dos semanas", "el 2/11", "el lunes pasado" all fail
   in dateparser 1.5; "2日" comes back as two days ago).
2. ``dateparser`` for the rest ("15 de octubre del 2026", "a fortnight ago", "上个月"), with
   its ``period`` telling a month from a day; a year alone is not a date here.

A date without a year is the latest such day not after today (or, for a due date, the
nearest one); a year or a date that names no day of the last 30 years is not read. Whether
a date in the future is acceptable is the caller's decision.

Pure computation: ``dateparser`` reads its own language tables, nothing else.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateparser.date import DateDataParser

from dialogs.replies import Ref

MAX_CHARS = 60
"""Longer answers are a story, not a date."""
OLDEST_YEARS = 30


@dataclass(frozen=True)
class Reading:
    """A date read from what the user typed."""

    on: date
    """The day named; when only a month was named, its first day."""
    month_only: bool = False

    def last_day(self, today: date) -> date:
        """Return the latest day the answer can mean, never after ``today``."""
        if not self.month_only:
            return self.on
        days = calendar.monthrange(self.on.year, self.on.month)[1]
        return min(self.on.replace(day=days), today)


def local_today(at: datetime, timezone: str | None) -> date:
    """Return the date at ``at`` in the IANA time zone (UTC if unknown)."""
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return at.astimezone(zone).date()


class DateParams(TypedDict):
    """The parameters of a text that shows a date; ``month`` is the month's name."""

    day: int
    month: Ref
    year: int


def date_params(reading: Reading) -> DateParams:
    """Return the parameters a text shows a date with: {day}, {month} (a text), {year}."""
    day = reading.on
    return {"day": day.day, "month": Ref(key=f"date.month.{day.month}"), "year": day.year}


def date_key(prefix: str, reading: Reading) -> str:
    """Return ``prefix.day`` or ``prefix.month``: the text for a day or for a whole month."""
    return f"{prefix}.month" if reading.month_only else f"{prefix}.day"


def read_date(text: str, today: date, lang: str = "en", *, future: bool = False) -> Reading | None:
    """Return the date ``text`` names, read relative to ``today``; None if it names none.

    ``future``: a day without a year may be ahead (a due date); otherwise it is in the past.
    """
    cleaned = _clean(text)
    if not cleaned or len(cleaned) > MAX_CHARS:
        return None
    reading = _by_rules(cleaned, today, lang, future)
    if reading is None:
        reading = _by_dateparser(cleaned, today, lang, future)
    if reading is None or reading.on.year < today.year - OLDEST_YEARS:
        return None
    return reading


# -- Words -----------------------------------------------------------------------------------

MONTHS = {
    "enero": 1, "ene": 1, "january": 1, "jan": 1,
    "febrero": 2, "feb": 2, "february": 2,
    "marzo": 3, "mar": 3, "march": 3,
    "abril": 4, "abr": 4, "april": 4, "apr": 4,
    "mayo": 5, "may": 5,
    "junio": 6, "jun": 6, "june": 6,
    "julio": 7, "jul": 7, "july": 7,
    "agosto": 8, "ago": 8, "august": 8, "aug": 8,
    "septiembre": 9, "setiembre": 9, "sep": 9, "sept": 9, "set": 9, "september": 9,
    "octubre": 10, "oct": 10, "october": 10,
    "noviembre": 11, "nov": 11, "november": 11,
    "diciembre": 12, "dic": 12, "december": 12, "dec": 12,
}  # fmt: skip
WEEKDAYS = {
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5,
    "domingo": 6, "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2,
    "wed": 2, "thursday": 3, "thu": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5,
    "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
ZH_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
NUMBER_WORDS = {
    "un": 1, "uno": 1, "una": 1, "a": 1, "an": 1, "one": 1, "dos": 2, "two": 2, "tres": 3,
    "three": 3, "cuatro": 4, "four": 4, "cinco": 5, "five": 5, "seis": 6, "six": 6,
    "siete": 7, "seven": 7, "ocho": 8, "eight": 8, "nueve": 9, "nine": 9, "diez": 10,
    "ten": 10, "once": 11, "eleven": 11, "doce": 12, "twelve": 12, "quince": 15,
    "fifteen": 15, "veinte": 20, "twenty": 20, "treinta": 30, "thirty": 30,
    "un par de": 2, "a couple of": 2, "couple of": 2, "primero": 1,
}  # fmt: skip
DAYS_PER_UNIT = {"day": 1, "week": 7}
UNITS = {
    "dia": "day", "dias": "day", "day": "day", "days": "day", "天": "day", "日": "day",
    "semana": "week", "semanas": "week", "week": "week", "weeks": "week", "周": "week",
    "星期": "week", "礼拜": "week", "mes": "month", "meses": "month", "month": "month",
    "months": "month", "月": "month",
}  # fmt: skip
ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
             "七": 7, "八": 8, "九": 9}  # fmt: skip

# Words around a date that do not change it ("el", "desde", "since", "从…开始").
_LEADING = re.compile(
    r"^(?:(?:el|la|los|desde|a partir del?|fue|en|hace como|como|aproximadamente|on|since|"
    r"from|in|the|about|around|it was)\s+|(?:自从|从|自|大概|大约|是|在)\s*)"
)
_TRAILING = re.compile(r"\s*(?:开始|以来|起|左右|的时候|那天|aprox\.?|more or less)$")

_N = r"(\d{1,2}|[一二两三四五六七八九十]{1,3})"
_WORD_N = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
_UNIT = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))

_TODAY = {"hoy": 0, "today": 0, "今天": 0, "今日": 0, "ayer": 1, "yesterday": 1, "昨天": 1,
          "昨日": 1, "anteayer": 2, "antier": 2, "antes de ayer": 2,
          "the day before yesterday": 2, "day before yesterday": 2, "前天": 2,
          "大前天": 3}  # fmt: skip
_LAST_WEEK = {"semana pasada", "last week", "上周", "上星期", "上个星期", "上礼拜", "上个礼拜"}
_LAST_MONTH = {"mes pasado", "last month", "上个月", "上月"}


def _clean(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold().strip()
    folded = "".join(  # drop accents: "miércoles", "sábado", "días"
        ch for ch in unicodedata.normalize("NFD", folded) if unicodedata.category(ch) != "Mn"
    )
    folded = unicodedata.normalize("NFC", folded)
    folded = re.sub(r"\s+", " ", folded).strip(" .,;:!?。，；：！？")
    while True:
        shorter = _TRAILING.sub("", _LEADING.sub("", folded)).strip()
        if shorter == folded:
            return folded
        folded = shorter


# -- The rules, tried in order ----------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    today: date
    lang: str
    future: bool


Rule = Callable[[re.Match[str], _Context], "Reading | None"]
_RULES: list[tuple[re.Pattern[str], Rule]] = []


def _rule(pattern: str) -> Callable[[Rule], Rule]:
    def register(function: Rule) -> Rule:
        _RULES.append((re.compile(pattern), function))
        return function

    return register


def _by_rules(text: str, today: date, lang: str, future: bool) -> Reading | None:
    if text in _TODAY:
        return Reading(today - timedelta(days=_TODAY[text]))
    if text in _LAST_WEEK:
        return Reading(today - timedelta(days=7))
    if text in _LAST_MONTH:
        return Reading(_months_back(today.replace(day=1), 1), month_only=True)
    context = _Context(today, lang, future)
    for pattern, function in _RULES:
        if m := pattern.match(text):
            return function(m, context)
    return None


@_rule(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")
def _iso(m: re.Match[str], c: _Context) -> Reading | None:
    """2026-11-02, 2026/11/2, 2026年11月2日."""
    return _make(int(m[1]), int(m[2]), int(m[3]))


@_rule(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?份?$")
def _iso_month(m: re.Match[str], c: _Context) -> Reading | None:
    """2026-09, 2026年9月."""
    return _month(int(m[1]), int(m[2]), c)


@_rule(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:\s*[-/.]\s*(\d{2}|\d{4}))?$")
def _numeric(m: re.Match[str], c: _Context) -> Reading | None:
    """2/11, 2/11/2026: day first in Spanish and English, month first in Chinese."""
    first, second = int(m[1]), int(m[2])
    unambiguous = first > 12 or second > 12
    month_first = second > 12 if unambiguous else c.lang.startswith("zh")
    month, day = (first, second) if month_first else (second, first)
    return _day(_year(m[3]), month, day, c)


@_rule(rf"^(?:(\d{{4}})\s*年)?\s*{_N}\s*月\s*{_N}\s*[日号]?$")
def _zh_day(m: re.Match[str], c: _Context) -> Reading | None:
    """11月2日, 十一月二号, 2026年11月2日."""
    month, day = _zh_number(m[2]), _zh_number(m[3])
    return None if month is None or day is None else _day(_year(m[1]), month, day, c)


@_rule(rf"^{_N}\s*[日号]$")
def _zh_day_of_month(m: re.Match[str], c: _Context) -> Reading | None:
    """2日, 2号: that day of this month, or of the last one if it is still ahead."""
    day = _zh_number(m[1])
    if day is None:
        return None
    this_month = _make(c.today.year, c.today.month, day)
    if this_month is not None and this_month.on <= c.today:
        return this_month
    before = _months_back(c.today.replace(day=1), 1)
    return _make(before.year, before.month, day)


@_rule(rf"^(?:(\d{{4}})\s*年)?\s*{_N}\s*月份?$")
def _zh_month(m: re.Match[str], c: _Context) -> Reading | None:
    """9月, 9月份, 九月."""
    month = _zh_number(m[2])
    return None if month is None else _month(_year(m[1]), month, c)


@_rule(
    rf"^(\d{{1,2}}|primero)(?:st|nd|rd|th|ro|o|°)?\s*(?:de\s+|of\s+)?({_MONTH})\.?"
    rf"(?:,?\s*(?:de|del)?\s*(\d{{4}}))?$"
)
def _day_month(m: re.Match[str], c: _Context) -> Reading | None:
    """2 de noviembre (de 2026), 2 nov, 2nd of November."""
    day = 1 if m[1] == "primero" else int(m[1])
    return _day(_year(m[3]), MONTHS[m[2]], day, c)


@_rule(rf"^({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s*(\d{{4}}))?$")
def _month_day(m: re.Match[str], c: _Context) -> Reading | None:
    """Nov 2, November 2nd, 2026."""
    return _day(_year(m[3]), MONTHS[m[1]], int(m[2]), c)


@_rule(rf"^({_MONTH})\.?(?:,?\s*(?:de|del|of)?\s*(\d{{4}}))?$")
def _month_name(m: re.Match[str], c: _Context) -> Reading | None:
    """Agosto, noviembre de 2026, October 2026."""
    return _month(_year(m[2]), MONTHS[m[1]], c)


@_rule(rf"^(?:hace\s+|for\s+)?(\d{{1,3}}|{_WORD_N})\s*({_UNIT})(?:\s+ago)?$")
def _ago(m: re.Match[str], c: _Context) -> Reading | None:
    """Hace dos semanas, 2 weeks ago, for 3 months, 3天."""
    count = int(m[1]) if m[1].isdecimal() else NUMBER_WORDS[m[1]]
    return _back(count, UNITS[m[2]], c.today)


@_rule(
    r"^(半|[\d一二两三四五六七八九十]{1,3})\s*个?\s*(天|日|周|星期|礼拜|月)\s*(?:前|以前|之前|了)$"
)
def _zh_ago(m: re.Match[str], c: _Context) -> Reading | None:
    """两周前, 三天前, 一个月前, 半个月前, 两个月了."""
    if m[1] == "半":
        return _back(15, "day", c.today) if m[2] == "月" else None
    count = _zh_number(m[1])
    return None if count is None else _back(count, UNITS[m[2]], c.today)


@_rule(rf"^(?:(?:last|this|este|pasado)\s+)?({_WEEKDAY})(?:\s+pasado)?$")
def _weekday(m: re.Match[str], c: _Context) -> Reading | None:
    """El lunes (pasado), last Monday: the latest one before today."""
    return _last_weekday(WEEKDAYS[m[1]], c.today)


@_rule(r"^(上上|上|这|本)?\s*(?:周|星期|礼拜)([一二三四五六日天])$")
def _zh_weekday(m: re.Match[str], c: _Context) -> Reading | None:
    """上周一 (Monday of the last calendar week), 这周一, 周一."""
    weekday = ZH_WEEKDAYS[m[2]]
    if m[1] in ("上", "上上"):
        monday = c.today - timedelta(days=c.today.weekday(), weeks=len(m[1]))
        return Reading(monday + timedelta(days=weekday))
    if m[1] in ("这", "本"):
        return Reading(c.today - timedelta(days=c.today.weekday() - weekday))
    return _last_weekday(weekday, c.today)


# -- Helpers ---------------------------------------------------------------------------------


def _zh_number(value: str) -> int | None:
    """Read 1-99 in digits or Chinese numerals (二, 十一, 二十三)."""
    if value.isdecimal():
        return int(value)
    tens, ten, ones = value.partition("十")
    if not ten:
        return ZH_DIGITS.get(value) if len(value) == 1 else None
    if (tens and tens not in ZH_DIGITS) or (ones and ones not in ZH_DIGITS):
        return None
    return (ZH_DIGITS[tens] if tens else 1) * 10 + (ZH_DIGITS[ones] if ones else 0)


def _day(year: int | None, month: int, day: int, c: _Context) -> Reading | None:
    """Return the day; without a year, the latest one not after today (or the nearest)."""
    if year is not None:
        return _make(year, month, day)
    this_year = _make(c.today.year, month, day) or _make(c.today.year - 1, month, day)
    if this_year is None:
        return None
    if c.future:
        if this_year.on < c.today - timedelta(days=183):
            return _make(c.today.year + 1, month, day) or this_year
        return this_year
    if this_year.on > c.today:
        return _make(c.today.year - 1, month, day)
    return this_year


def _make(year: int, month: int, day: int) -> Reading | None:
    try:
        return Reading(date(year, month, day))
    except ValueError:
        return None


def _month(year: int | None, month: int, c: _Context) -> Reading | None:
    if not 1 <= month <= 12:
        return None
    if year is None:
        year = c.today.year if (month <= c.today.month or c.future) else c.today.year - 1
    return Reading(date(year, month, 1), month_only=True)


def _year(value: str | None) -> int | None:
    if value is None:
        return None
    year = int(value)
    return year + 2000 if year < 100 else year


def _months_back(today: date, months: int) -> date:
    month_index = today.year * 12 + today.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(today.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


def _back(count: int, unit: str, today: date) -> Reading | None:
    if unit == "month":
        return Reading(_months_back(today, count)) if count <= 12 * OLDEST_YEARS else None
    days = count * DAYS_PER_UNIT[unit]
    return Reading(today - timedelta(days=days)) if days <= 366 * OLDEST_YEARS else None


def _last_weekday(weekday: int, today: date) -> Reading:
    """Return the latest such weekday before today ("el lunes" said on Friday)."""
    back = (today.weekday() - weekday) % 7 or 7
    return Reading(today - timedelta(days=back))


def _by_dateparser(text: str, today: date, lang: str, future: bool) -> Reading | None:
    languages = ["es", "zh", "en"]
    primary = lang.split("-")[0]
    if primary in languages:
        languages.remove(primary)
        languages.insert(0, primary)
    parser = DateDataParser(
        languages=languages,
        settings={
            "RELATIVE_BASE": datetime.combine(today, time(12, 0)),
            "PREFER_DATES_FROM": "current_period" if future else "past",
            "DATE_ORDER": "YMD" if primary == "zh" else "DMY",
        },
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = parser.get_date_data(text)
    except Exception:  # a library's failure on odd input is an unreadable answer, not a bug
        return None
    if found.date_obj is None or found.period not in ("day", "week", "month"):
        return None
    day = found.date_obj.date()
    if found.period == "month":
        return Reading(day.replace(day=1), month_only=True)
    return Reading(day)
