"""Numbers in what users write: collectors' phone numbers and the victim's sensitive numbers.

Pure functions over text, built on maintained validators: ``phonenumbers`` (Google's
metadata) reads phone numbers per region, ``python-stdnum`` checks national ID checksums and
the Luhn digit of card numbers. Masking keeps the last four characters, as banks do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric

from dialogs.case import Finding

_ID_CN = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[0-9Xx](?![0-9A-Za-z])")
_DIGIT_RUN = re.compile(r"(?<![0-9])\d(?:[ -]?\d){12,22}(?![0-9])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def phone_numbers(text: str, region: str = "") -> Iterator[str]:
    """Yield valid phone numbers in the text, in international format."""
    matcher = phonenumbers.PhoneNumberMatcher(text, region or "ZZ")
    for match in matcher:
        yield phonenumbers.format_number(
            match.number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )


def find_sensitive(text: str, region: str = "") -> list[Finding]:
    """Return the resident IDs, card numbers, phone numbers and e-mails found in the text."""
    findings: list[Finding] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, value: str, span: tuple[int, int]) -> None:
        if any(span[0] < end and start < span[1] for start, end in taken):
            return
        taken.append(span)
        findings.append(Finding(kind=kind, value=value))

    for m in _ID_CN.finditer(text):
        if ric.is_valid(m.group()):
            add("resident_id", m.group(), m.span())
    for m in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
            add("bank_card", m.group(), m.span())
    for match in phonenumbers.PhoneNumberMatcher(text, region or "ZZ"):
        add("phone", match.raw_string, (match.start, match.end))
    for m in _EMAIL.finditer(text):
        add("email", m.group(), m.span())
    return findings


def mask(value: str) -> str:
    """Hide all but the last four letters or digits of a value; e-mails keep their domain."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return local[:1] + "***@" + domain
    visible = 4
    chars = [ch for ch in value if ch.isalnum()]
    hidden = max(len(chars) - visible, 0)
    return "*" * hidden + "".join(chars[hidden:])


def mask_text(text: str, findings: Iterable[Finding]) -> str:
    """Replace every finding the user did not choose to show with its masked form."""
    for finding in sorted(findings, key=lambda f: len(f.value), reverse=True):
        if not finding.show and finding.value:
            text = text.replace(finding.value, mask(finding.value))
    return text
