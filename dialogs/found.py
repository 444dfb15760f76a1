"""Amounts, dates and times as collectors' messages and call logs show them, in Chinese,
Spanish and English: what the reading of a screenshot (dialogs/steps/reading.py) keeps
besides the numbers.

- Amounts: "¥1,500.00", "1500元", "$2,300 MXN", "$ 1,250.50", "USD 300", "3000 pesos",
  "20 dollars", read as "1500.00 CNY"; a bare "$" is the jurisdiction's currency (pesos in
  Mexico, dollars in the United States), and unknown elsewhere ("1500.00 $").
- Dates: "2026-11-03", "2026/11/03", "2026.11.03", "2026年11月3日", "3 de noviembre de
  2026", "November 3, 2026", "Nov 3, 2026", and "03/11/2026", day first except in the United
  States (month first), whichever the numbers allow; read as ISO dates.
- Times: "22:41", "10:41 PM", "10:41 p. m.", read as "22:41".
- App names, as candidates for the user to pick (:func:`app_names`), and the words that
  suggest a behaviour of the collectors (:func:`behaviours`).

:func:`moments` puts them in order: a time on a date's line, or below it in the same picture
(chat apps show the date once, then times), is that day's; a time with no date above it is
kept as a time alone. Pure computation.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Final

CURRENCY_OF_REGION: Final = {"CN": "CNY", "MX": "MXN", "US": "USD"}

_NUMBER = r"\d{1,3}(?:[,.]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_BEFORE = {"¥": "CNY", "￥": "CNY", "RMB": "CNY", "CNY": "CNY", "MXN": "MXN", "USD": "USD",
           "US$": "USD", "MX$": "MXN", "$": ""}  # fmt: skip
_AFTER = {"元": "CNY", "块": "CNY", "块钱": "CNY", "RMB": "CNY", "CNY": "CNY", "MXN": "MXN",
          "USD": "USD", "PESOS": "MXN", "PESO": "MXN", "DOLLARS": "USD", "DOLLAR": "USD",
          "DÓLARES": "USD", "DOLARES": "USD"}  # fmt: skip
_AMOUNT: Final = re.compile(
    r"(?P<before>US\$|MX\$|RMB|CNY|MXN|USD|[¥￥$])?\s?"
    rf"(?P<number>(?<![\d.,])(?:{_NUMBER}))(?![\d])"
    r"(?:\s?(?P<after>块钱|元|块|RMB|CNY|MXN|USD|pesos?|d[oó]lares|dollars?)(?![A-Za-z]))?",
    re.IGNORECASE,
)

_MONTHS: Final = {
    **{m: n for n, m in enumerate(("enero", "febrero", "marzo", "abril", "mayo", "junio",
       "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"), 1)},
    **{m: n for n, m in enumerate(("january", "february", "march", "april", "may", "june",
       "july", "august", "september", "october", "november", "december"), 1)},
    **{m: n for n, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
       "sep", "oct", "nov", "dec"), 1)},
    "sept": 9, "setiembre": 9,
}  # fmt: skip
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_YMD: Final = re.compile(r"(?<!\d)(\d{4})\s?[-/.年]\s?(\d{1,2})\s?[-/.月]\s?(\d{1,2})(?!\d)日?")
_YMD_GLUED: Final = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{2})(?=[012]?\d:[0-5]\d)")
"""A date whose time the reading glued to it ("2026-02-1315:19" for "2026-02-13 15:19")."""
_NUMERIC: Final = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)")
_ES_LONG: Final = re.compile(
    rf"(?<!\d)(\d{{1,2}})\s+de\s+({_MONTH_NAMES})\s+del?\s+(\d{{4}})", re.I
)
_EN_LONG: Final = re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})(?!\d)", re.I)
_TIME: Final = re.compile(
    r"(?P<pre>上午|下午|晚上|凌晨|中午)?"
    r"(?:(?<![\d:])|(?<=\d{4}[-/.]\d{2}[-/.]\d{2}))([01]?\d|2[0-3]):([0-5]\d)(?![\d:])"
    r"(?:\s?(?P<half>a\.?\s?m\.?|p\.?\s?m\.?|上午|下午))?",
    re.IGNORECASE,
)


def amounts(text: str, region: str = "") -> list[str]:
    """The amounts of money in the text, as "1500.00 CNY" (a currency sign or word is needed:
    a bare number is no amount)."""
    found: list[str] = []
    for m in _AMOUNT.finditer(_plain(text)):
        before, after = m["before"], m["after"]
        if not before and not after:
            continue
        currency = _AFTER.get((after or "").upper()) or _BEFORE.get((before or "").upper(), "")
        if not currency:
            currency = CURRENCY_OF_REGION.get(region.upper(), "$")
        value = _value(m["number"])
        if value is not None:
            found.append(f"{value:.2f} {currency}")
    return found


def dates(text: str, region: str = "") -> list[tuple[int, str]]:
    """The dates in the text: (where each starts, the ISO date), in order."""
    text = _plain(text)
    found: list[tuple[int, str]] = []
    taken: list[range] = []

    def add(start: int, end: int, day: date | None) -> None:
        if day is not None and not any(start in r for r in taken):
            found.append((start, day.isoformat()))
            taken.append(range(start, end))

    for pattern in (_YMD, _YMD_GLUED):
        for m in pattern.finditer(text):
            add(m.start(), m.end(), _day(int(m[1]), int(m[2]), int(m[3])))
    for m in _ES_LONG.finditer(text):
        add(m.start(), m.end(), _day(int(m[3]), _MONTHS[m[2].lower()], int(m[1])))
    for m in _EN_LONG.finditer(text):
        add(m.start(), m.end(), _day(int(m[3]), _MONTHS[m[1].lower()], int(m[2])))
    month_first = region.upper() == "US"
    for m in _NUMERIC.finditer(text):
        a, b, year = int(m[1]), int(m[2]), int(m[3])
        if a > 12 or (not month_first and b <= 12):
            day, month = a, b
        else:
            day, month = b, a
        add(m.start(), m.end(), _day(year, month, day))
    return sorted(found)


def times(text: str) -> list[tuple[int, str]]:
    """The times of day in the text: (where each starts, "HH:MM" on 24 hours), in order."""
    found = []
    for m in _TIME.finditer(_plain(text)):
        hour, minute = int(m[2]), int(m[3])
        half = (m["half"] or m["pre"] or "").lower().replace(" ", "").replace(".", "")
        if half in ("pm", "下午", "晚上") and hour < 12:
            hour += 12
        elif half in ("am", "上午") and hour == 12:
            hour = 0
        found.append((m.start(), f"{hour:02d}:{minute:02d}"))
    return found


def blank_moments(text: str, region: str = "") -> str:
    """The text with its dates and times replaced by spaces (same length, so that positions
    hold): digits of a date read with its time glued on are no phone number."""
    plain = _plain(text)
    if len(plain) != len(text):
        return text
    spans = [(m.start(), m.end()) for p in (_YMD, _YMD_GLUED, _NUMERIC) for m in p.finditer(plain)]
    spans += [(m.start(), m.end()) for m in _TIME.finditer(plain)]
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def moments(lines: list[str], region: str = "") -> list[str]:
    """The moments a picture shows, in order: "2026-11-03T22:41" for a time on or below a
    date, "2026-11-03" for a date with no time, "22:41" for a time with no date above it."""
    out: list[str] = []
    current: str | None = None
    for line in lines:
        line_dates = dates(line, region)
        line_times = times(line)
        if line_dates:
            current = line_dates[-1][1]
            if not line_times:
                out.append(current)
        for _, clock in line_times:
            out.append(f"{current}T{clock}" if current else clock)
    return out


MAX_APP_CHARS: Final = 20
_SIGNATURE: Final = re.compile(r"【([^【】\s]{2,12})】")
"""A Chinese SMS's sender signature: 【快易贷】."""
_HAN_BEFORE_DESK: Final = re.compile(
    r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]{2,5})(?=客服|平台|APP|App|app)"
)
"""A name right before "客服" (customer service), "平台" (platform) or "App", and after no
other Chinese character: 快易贷客服."""
_HAN_OWNS: Final = re.compile(
    r"(?<![\u4e00-\u9fff])(?:[\u4e00-\u9fff]{0,3}在)?([\u4e00-\u9fff]{2,5})"
    r"(?=的(?:借款|贷款|律师函|法务|催收|工作人员))"
)
"""A name that owns the loan or the collection: 你在金满仓的借款, 闪电借的律师函."""
_CAMEL: Final = re.compile(
    r"(?<![\w])([A-Z][a-zà-ÿ]+(?:[A-Z][a-zà-ÿ]+)+(?: (?:Pro|Go|Plus|Max|Lite))?)(?![\w])"
)
"""A brand written in one word with capitals inside, and its tier: PrestaYa, DineroFácil,
QuickLoan Pro, PayDay Go."""
_NOT_APPS: Final = frozenset({
    "WhatsApp", "WeChat", "TikTok", "YouTube", "Facebook", "Instagram", "LinkedIn", "PayPal",
    "McDonald", "iPhone", "你好", "您好", "人工", "在线", "官方", "联系", "智能", "专属", "我们",
    "本", "贵",
})  # fmt: skip
"""Names of messengers and the words that come before 客服 without naming anyone."""


def app_names(lines: list[str]) -> list[str]:
    """Names that look like a lending app's, in order, each once: a Chinese SMS signature
    (【快易贷】), a Chinese name before 客服/平台/App or owning the loan or the collection
    (在金满仓的借款, 闪电借的律师函), a one-word brand with inner capitals (PrestaYa, CashNow,
    QuickLoan Pro). Candidates only: the user picks the app's name or types it."""
    found: list[str] = []
    for line in lines:
        text = _plain(line)
        names = [m[1] for m in _SIGNATURE.finditer(text)]
        names += [m[1] for m in _HAN_BEFORE_DESK.finditer(text)]
        names += [m[1] for m in _HAN_OWNS.finditer(text)]
        names += [m[1] for m in _CAMEL.finditer(text)]
        for name in names:
            if name not in found and name not in _NOT_APPS and len(name) <= MAX_APP_CHARS:
                found.append(name)
    return found


def behaviours(lines: list[str], words: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The behaviours (ids of ``words``, content/behaviour_words.toml) whose words the lines
    show, in the order of ``words``."""
    text = _folded("\n".join(lines))
    return [name for name, listed in words.items() if _pattern_of(listed).search(text)]


@functools.lru_cache(maxsize=64)
def _pattern_of(words: tuple[str, ...]) -> re.Pattern[str]:
    """One expression for a behaviour's words: Latin ones whole (``*``: the word may go on),
    Chinese ones anywhere."""
    parts = []
    for word in words:
        folded = _folded(word)
        stem = re.escape(folded.rstrip("*"))
        if re.search(r"[\u4e00-\u9fff]", folded):
            parts.append(stem)
        else:
            tail = r"\w*" if folded.endswith("*") else ""
            parts.append(rf"(?<!\w){stem}{tail}(?!\w)")
    return re.compile("|".join(parts) or r"(?!)")


def _folded(text: str) -> str:
    """Lower case, without accents, full-width forms as plain ones."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _plain(text: str) -> str:
    """Full-width digits and signs as plain ones (NFKC keeps ¥ as it is, turns ￥ into ¥)."""
    return unicodedata.normalize("NFKC", text)


def _value(number: str) -> float | None:
    """A written number as a value: the last separator followed by 1-2 digits is the
    decimal one; separators followed by three digits group thousands."""
    last = max(number.rfind(","), number.rfind("."))
    if last >= 0 and len(number) - last - 1 in (1, 2):
        whole, cents = number[:last], number[last + 1 :]
    else:
        whole, cents = number, "0"
    digits = whole.replace(",", "").replace(".", "")
    if not digits.isdigit():
        return None
    return int(digits) + int(cents) / 10 ** len(cents)


def _day(year: int, month: int, day: int) -> date | None:
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    return found if 2000 <= year <= 2100 else None
