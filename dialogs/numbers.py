"""Numbers in what users write: collectors' phone numbers and the victim's sensitive numbers.

Pure functions over text. Wherever a maintained validator exists it decides, not a regular
expression: ``phonenumbers`` (Google's metadata) reads phone numbers per region and
``python-stdnum`` checks the structure and check digits of ID, card and account numbers. The
regular expressions here only cut candidates out of running text.

What :func:`find_sensitive` detects (``Finding.kind``), and how:

============  ==================================  ===========================================
kind          what                                decided by
============  ==================================  ===========================================
email         e-mail address                      a plain pattern (there is no checksum)
resident_id   Chinese resident ID, 18 characters  ``stdnum.cn.ric`` (check digit, date, place)
mx_curp       Mexican CURP                        ``stdnum.mx.curp`` (check digit, date, state)
mx_rfc        Mexican RFC of a person             ``stdnum.mx.rfc``: with its check digit
                                                  anywhere; without it only after "RFC"
es_dni        Spanish DNI/NIF                     ``stdnum.es.dni`` (check letter)
es_nie        Spanish NIE                         ``stdnum.es.nie`` (check letter)
iban          IBAN (Spain and everywhere else)    ``stdnum.iban`` (mod 97, country format)
mx_clabe      Mexican CLABE, 18 digits            its check digit (weights 3-7-1; stdnum 2.2
                                                  has no module), in Mexico or after "CLABE"
bank_card     payment card, 13-19 digits          ``stdnum.luhn`` and a card network's IIN
                                                  range and length (see ``_CARD_RANGES``)
pe_dni        Peruvian DNI/CUI                    ``stdnum.pe.cui``: after "DNI"/"CUI", or in
                                                  Peru with its check digit ("12345678-9")
co_cedula     Colombian cédula (no checksum)      only after "cédula", "C.C." or "CC"
passport      passport number                     only after "护照"/"pasaporte"/"passport",
                                                  letters then digits (E12345678, PAA123456)
bank_account  bank account number, 8-30 digits    only after "账号", "卡号", "cuenta", "account"…
phone         phone number                        ``phonenumbers.PhoneNumberMatcher`` with the
                                                  jurisdiction's region, leniency VALID
possible_id   an ID, card or IBAN with a wrong    the same shape as a resident ID, CURP, RFC,
              check digit (a typo does not make   DNI, NIE, IBAN, CLABE (after "CLABE") or card,
              it less private)                    valid once its check digit is recomputed
============  ==================================  ===========================================

False positives are kept out by rules, not by luck:

* a number is one token: no letter or digit may touch it (a resident ID inside a longer digit
  string is not one);
* numbers without a checksum (cédula, passport, account, a Peruvian DNI without its check
  digit) count only right after their keyword;
* a 16-digit order number that passes Luhn is not a card unless it starts with a card
  network's issuer range and has that network's length (2024... is not a card, 2221-2720 is
  Mastercard; 4 Visa; 51-55 Mastercard; 34/37 Amex; 30-39 Diners/JCB; 50, 56-69 Maestro,
  Discover, UnionPay);
* a number right after an order/loan/reference keyword (订单号, folio, referencia, pedido,
  ticket, order...), next to a currency (¥, $, €, 元, MXN, pesos, soles...), and any date,
  time or percentage (2026-11-02, 02/11/2026, 2026年11月2日, 14:30, 36%) is never sensitive,
  nor is any number overlapping one (a phone number is not read across a date);
* where two candidates overlap, the longer wins, then the earlier kind in :data:`DETECTORS`
  (a resident ID is not also a phone number or a card); a possible ID never displaces a
  valid number of any kind;
* a possible card is grouped as cards are printed (4 4 4 4, 4 6 5), or one run of 16
  digits (15 for American Express, 19 for UnionPay's 62): a serial number of another length
  is not taken for a card with a typo, and a phone number is too short for one.

Full-width digits and letters (１３８…) are read like ASCII ones. Phone numbers are found
for the jurisdiction's region only (others need their "+" prefix); IDs, cards and accounts
are found whatever the jurisdiction, since victims abroad write their home country's numbers.

Masking keeps the last four letters or digits, as banks do; :func:`redact` also says which
spans it masked (for the dossier's manifest).

Two more readings of what people type live here: whose a phone number is, from the words
right before it (:func:`cue_before`: "llámale al...", "她电话..." give it as someone else's,
"mi número..." as the writer's own), and how many people a typed count means
(:func:`read_count`: "3", "unos 80", "几十个").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial

import phonenumbers
from stdnum import iban, luhn
from stdnum.cn import ric
from stdnum.es import dni, nie
from stdnum.mx import curp, rfc
from stdnum.pe import cui

from dialogs.case import Finding

Span = tuple[int, int]
Finder = Callable[[str, str], Iterator[Span]]

# -- Patterns --------------------------------------------------------------------------------

_A = r"(?<![0-9A-Za-z])"
"""No letter or digit right before: a number starts here."""
_Z = r"(?![0-9A-Za-z])"
"""No letter or digit right after: a number ends here."""
_LATIN = r"(?<![A-Za-z])"
"""A Latin keyword starts a word."""
_FILLER = r"[^0-9\n,，。；;!?！？]{0,16}?"
"""Between a keyword and its number: a few words ("de ahorros", "number is", "是"), no digits."""
_GROUPS = re.compile(r"[0-9]+(?:[ -][0-9]+)*")
"""Digits, maybe grouped by single spaces or dashes: 6222 0212 3456 7890 128."""
_RUN = re.compile(rf"{_A}{_GROUPS.pattern}{_Z}")

_FULLWIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９＋－＠．＿"} | {
    code: code - 0xFEE0 for code in [*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]
}
"""Full-width digits, letters and number signs (１３８, ＡＢＣ, ＋) as Chinese keyboards type them,
one character for one. The full-width comma stays: it ends a clause, it does not group digits."""


def _keyword(words: str) -> str:
    """A keyword pattern: Latin words must start a word; followed by the filler."""
    return rf"{_LATIN}(?:{words}){_FILLER}"


def _after(words: str, number: str) -> re.Pattern[str]:
    """A number (group ``n``) right after one of the keywords, case-insensitively."""
    return re.compile(rf"{_keyword(words)}{_A}(?P<n>{number}){_Z}", re.IGNORECASE)


def _digits(value: str) -> str:
    return re.sub(r"[^0-9]", "", value)


def _compact(value: str) -> str:
    """Letters and digits only, upper case: what the stdnum validators read."""
    return re.sub(r"[^0-9A-Za-zÑñ&]", "", value).upper()


# -- E-mail and phone numbers ----------------------------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def _emails(text: str, region: str) -> Iterator[Span]:
    for m in _EMAIL.finditer(text):
        yield m.span()


def _matches(text: str, region: str) -> Iterator[phonenumbers.PhoneNumberMatch]:
    yield from phonenumbers.PhoneNumberMatcher(
        text, region or "ZZ", leniency=phonenumbers.Leniency.VALID
    )


def _phones(text: str, region: str) -> Iterator[Span]:
    """Phone numbers as written; "(" is left out when its ")" is not part of the match."""
    for match in _matches(text, region):
        raw = match.raw_string
        unbalanced = raw.startswith(("(", "（")) and not {")", "）"} & set(raw)
        yield match.start + unbalanced, match.end


def phone_numbers(text: str, region: str = "") -> Iterator[str]:
    """Yield valid phone numbers in the text, in international format.

    Without a region only numbers written with their ``+`` country code are found.
    """
    for match in _matches(text, region):
        yield phonenumbers.format_number(
            match.number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )


# -- Whose phone number: the words right before it ------------------------------------------

THIRD = "third"
"""A number given as someone else's: "call her", "llámale", "su número", "她电话"."""
FIRST = "first"
"""A number given as the writer's own: "my number", "mi número", "我的电话"."""
_THIRD_WORDS = (
    r"ll[aá]ma(?:le|la|lo)|h[aá]bla(?:le|la|lo)|m[aá]rca(?:le|la|lo)|escr[ií]be(?:le|la|lo)|"
    r"cont[aá]cta(?:le|la|lo)|b[uú]sca(?:la|lo)|"
    r"su (?:n[uú]mero|tel[eé]fono|tel\.?|cel(?:ular)?|m[oó]vil|whats(?:app)?)|"
    r"(?:el )?n[uú]mero de (?:ella|[eé]l)|"
    r"call (?:her|him)|ring (?:her|him)|text (?:her|him)|contact (?:her|him)|reach (?:her|him)|"
    r"(?:her|his) (?:number|phone|cell|mobile|whatsapp)|"
    r"[她他](?:的)?(?:电话|手机|号码|号|微信)|(?:打给|打电话给|联系|找|问)[她他]|给[她他]打电话"
)
_FIRST_WORDS = (
    r"mi (?:n[uú]mero|tel[eé]fono|tel\.?|cel(?:ular)?|m[oó]vil|whats(?:app)?)|"
    r"my (?:number|phone|cell|mobile|whatsapp)|"
    r"(?:我|本人)(?:的)?(?:电话|手机|号码|手机号|微信)"
)
_CUE_BEFORE = re.compile(
    rf"(?:(?P<third>{_LATIN}(?:{_THIRD_WORDS}))|(?P<first>{_LATIN}(?:{_FIRST_WORDS})))"
    r"[^0-9\n。.!?！？;；]{0,14}$",
    re.IGNORECASE,
)


def cue_before(text: str, start: int) -> str | None:
    """Return :data:`THIRD` or :data:`FIRST` when the words just before ``start`` give the
    number there as someone else's or as the writer's own; else None."""
    m = _CUE_BEFORE.search(text[max(0, start - 40) : start])
    if m is None:
        return None
    return THIRD if m["third"] else FIRST


def phone_cues(text: str, region: str = "") -> Iterator[tuple[str, str | None]]:
    """Yield each valid phone number in the text (international format) and its cue."""
    for match in _matches(text, region):
        number = phonenumbers.format_number(
            match.number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        yield number, cue_before(text, match.start)


def same_number(a: str, b: str) -> bool:
    """Return True if two numbers have the same digits, one maybe without a country code."""
    x, y = _digits(a), _digits(b)
    return len(x) >= 7 and len(y) >= 7 and (x.endswith(y) or y.endswith(x))


# -- National IDs with a check digit ---------------------------------------------------------

_CN_RIC = re.compile(rf"{_A}[1-9][0-9]{{5}} ?(?:18|19|20)[0-9]{{6}} ?[0-9]{{3}}[0-9Xx]{_Z}")
_CURP = re.compile(rf"{_A}[A-Za-z]{{4}}[0-9]{{6}}[A-Za-z]{{6}}[0-9A-Za-z][0-9]{_Z}")
_RFC = r"[A-ZÑ&]{4}[ -]?[0-9]{6}"
_RFC_FULL = re.compile(rf"{_A}{_RFC}[ -]?[A-Z0-9]{{3}}{_Z}")
_RFC_AFTER_KEYWORD = _after(r"(?-i:RFC)", rf"{_RFC}(?:[ -]?[A-Z0-9]{{3}})?")
_ES_DNI = re.compile(rf"{_A}(?:[0-9]{{8}}|[0-9]{{2}}\.[0-9]{{3}}\.[0-9]{{3}})-?[A-Za-z]{_Z}")
_ES_NIE = re.compile(rf"{_A}[XYZxyz]-?[0-9]{{7}}-?[A-Za-z]{_Z}")
_PE_CUI_CHECKED = re.compile(rf"{_A}[0-9]{{8}}-[0-9A-Ka-k]{_Z}")
_PE_CUI_AFTER_KEYWORD = _after(
    r"(?-i:DNI|D\.N\.I\.?|CUI)", r"[0-9]{8}(?:-[0-9A-Ka-k])?(?!-[0-9A-Za-z])"
)


def _validated(pattern: re.Pattern[str], valid: Callable[[str], bool]) -> Finder:
    """A finder yielding the pattern's matches (group ``n`` if any) that ``valid`` accepts."""

    group = "n" if "n" in pattern.groupindex else 0

    def find(text: str, region: str) -> Iterator[Span]:
        for m in pattern.finditer(text):
            if valid(_compact(m.group(group))):
                yield m.span(group)

    return find


_rfc_checked = _validated(_RFC_FULL, partial(rfc.is_valid, validate_check_digits=True))
_rfc_named = _validated(_RFC_AFTER_KEYWORD, lambda v: len(v) != 12 and rfc.is_valid(v))
_pe_cui_named = _validated(_PE_CUI_AFTER_KEYWORD, cui.is_valid)
_pe_cui_checked = _validated(_PE_CUI_CHECKED, cui.is_valid)


def _rfcs(text: str, region: str) -> Iterator[Span]:
    """Persons' RFCs: with a valid check digit anywhere (upper case), else after "RFC".

    The SAT issued some RFCs with a wrong check digit, so after its keyword any RFC of the
    right shape and date counts. Companies' RFCs (3 letters) are not personal data.
    """
    yield from _rfc_checked(text, region)
    yield from _rfc_named(text, region)


def _pe_cuis(text: str, region: str) -> Iterator[Span]:
    """Peruvian DNIs: after "DNI"/"CUI"; in Peru also bare with their check digit.

    Eight bare digits are too often an amount or an order number to count on their own.
    """
    yield from _pe_cui_named(text, region)
    if region == "PE":
        yield from _pe_cui_checked(text, region)


# -- Cards and bank accounts -----------------------------------------------------------------

_CARD_RANGES: tuple[tuple[str, str, range], ...] = (
    # (lowest and highest issuer prefix, lengths): the networks' published ranges
    ("4", "4", range(13, 20, 3)),  # Visa: 13, 16, 19
    ("51", "55", range(16, 17)),  # Mastercard
    ("2221", "2720", range(16, 17)),  # Mastercard 2-series
    ("34", "34", range(15, 16)),  # American Express
    ("37", "37", range(15, 16)),
    ("300", "305", range(14, 20)),  # Diners Club
    ("36", "36", range(14, 20)),
    ("38", "39", range(16, 20)),
    ("3528", "3589", range(16, 20)),  # JCB
    ("50", "50", range(16, 20)),  # Maestro, Carnet (Mexico)
    ("56", "69", range(16, 20)),  # Maestro, Discover, UnionPay (62), RuPay
)


def _is_card(digits: str) -> bool:
    """Luhn-valid, and in a card network's issuer range with that network's length."""
    return luhn.is_valid(digits) and any(
        lo <= digits[: len(lo)] <= hi and len(digits) in lengths
        for lo, hi, lengths in _CARD_RANGES
    )


def _is_clabe(digits: str) -> bool:
    """The CLABE check digit: weights 3, 7, 1 over the first 17 digits, modulo 10."""
    if len(digits) != 18:
        return False
    total = sum(int(d) * w % 10 for d, w in zip(digits[:17], (3, 7, 1) * 6, strict=False))
    return (10 - total % 10) % 10 == int(digits[17])


def _windows(text: str, shortest: int, longest: int) -> Iterator[tuple[Span, str]]:
    """Every run of whole digit groups with ``shortest``..``longest`` digits, and its digits.

    "2026-11-02 4111 1111 1111 1111" holds a card although the date is grouped with it.
    """
    for run in _RUN.finditer(text):
        groups = [(m.start() + run.start(), m.group()) for m in re.finditer("[0-9]+", run[0])]
        for i, (start, _) in enumerate(groups):
            digits = ""
            for j in range(i, len(groups)):
                digits += groups[j][1]
                if len(digits) > longest:
                    break
                if len(digits) >= shortest:
                    yield (start, groups[j][0] + len(groups[j][1])), digits


def _cards(text: str, region: str) -> Iterator[Span]:
    for span, digits in _windows(text, 13, 19):
        if _is_card(digits):
            yield span


_CLABE_AFTER_KEYWORD = _after("CLABE", _GROUPS.pattern)


def _clabes(text: str, region: str) -> Iterator[Span]:
    """CLABEs: 18 digits with their check digit, in Mexico or after the word "CLABE".

    Elsewhere 18 digits are as likely an order number, one in ten of which would pass.
    """
    if region == "MX":
        for span, digits in _windows(text, 18, 18):
            if _is_clabe(digits):
                yield span
    for m in _CLABE_AFTER_KEYWORD.finditer(text):
        if _is_clabe(_digits(m["n"])):
            yield m.span("n")


_IBAN = re.compile(rf"{_A}[A-Z]{{2}}[0-9]{{2}}(?: ?[A-Z0-9]{{4}}){{2,7}}(?: ?[A-Z0-9]{{1,3}})?")


def _ibans(text: str, region: str) -> Iterator[Span]:
    """IBANs, written whole or in groups of four; the longest valid prefix of a match."""
    for m in _IBAN.finditer(text):
        ends = [g.end() for g in re.finditer(r"[A-Z0-9]+", m[0])]
        for end in reversed(ends):
            if not re.match(_Z, text[m.start() + end :]):
                continue
            if iban.is_valid(m[0][:end]):
                yield m.start(), m.start() + end
                break


# -- Numbers without a checksum: only after their keyword ------------------------------------

_ACCOUNT_WORDS = (
    r"账号|帐号|账户|帐户|卡号|银行卡|收款账户|"
    r"cuenta|cta\.?|tarjeta|n[uú]mero de cuenta|account|acct\.?|a/c|card"
)
_ACCOUNT = _after(_ACCOUNT_WORDS, _GROUPS.pattern)
_CO_CEDULA = _after(
    r"c[ée]dula(?: de ciudadan[íi]a| de extranjer[íi]a)?|(?-i:C\.\s?C\.?|CC)",
    r"[0-9]{1,3}(?:\.[0-9]{3}){1,3}|[0-9]{6,10}",
)
_PASSPORT = _after(r"护照|pasaporte|passport", r"[A-Z]{1,3}[0-9]{6,8}")


def _bank_accounts(text: str, region: str) -> Iterator[Span]:
    """8 to 30 digits after an account or card keyword."""
    for m in _ACCOUNT.finditer(text):
        if 8 <= len(_digits(m["n"])) <= 30:
            yield m.span("n")


def _co_cedulas(text: str, region: str) -> Iterator[Span]:
    """Colombian cédulas: 6 to 10 digits (1.020.304.050) after their keyword."""
    for m in _CO_CEDULA.finditer(text):
        if 6 <= len(_digits(m["n"])) <= 10:
            yield m.span("n")


def _passports(text: str, region: str) -> Iterator[Span]:
    """Passport numbers of 8 to 10 characters, letters first, after their keyword.

    That shape is China's (E12345678, EA1234567), Spain's (PAA123456), Mexico's (G12345678)
    and Colombia's (AB1234567); all-digit passport numbers look too much like phone numbers.
    """
    for m in _PASSPORT.finditer(text):
        if 8 <= len(m["n"]) <= 10:
            yield m.span("n")


# -- Possible IDs: the right shape, a wrong check digit --------------------------------------


Fixer = Callable[[str], str]
"""A value with its check digit(s) replaced by the right one(s)."""


def _near_miss(pattern: re.Pattern[str], valid: Callable[[str], bool], fix: Fixer) -> Finder:
    """A finder of the pattern's matches that fail ``valid`` but pass once ``fix`` has put
    the right check digit in: the shape, date and place of an ID, with a typo."""

    group = "n" if "n" in pattern.groupindex else 0

    def find(text: str, region: str) -> Iterator[Span]:
        for m in pattern.finditer(text):
            value = _compact(m.group(group))
            if not valid(value) and _fixed_is_valid(value, valid, fix):
                yield m.span(group)

    return find


def _fixed_is_valid(value: str, valid: Callable[[str], bool], fix: Fixer) -> bool:
    try:
        return valid(fix(value))
    except (ValueError, IndexError):  # a character the check-digit alphabet does not have
        return False


def _last(calc: Callable[[str], str], body: int) -> Fixer:
    """Keep the first ``body`` characters and append the check digit ``calc`` gives them."""
    return lambda value: value[:body] + calc(value[:body])


def _possible_ibans(text: str, region: str) -> Iterator[Span]:
    """IBAN-shaped strings whose check digits (3rd and 4th characters) are wrong."""

    def fix(value: str) -> str:
        return value[:2] + iban.calc_check_digits(value) + value[4:]

    for m in _IBAN.finditer(text):
        ends = [g.end() for g in re.finditer(r"[A-Z0-9]+", m[0])]
        for end in reversed(ends):
            value = _compact(m[0][:end])
            if not re.match(_Z, text[m.start() + end :]):
                continue
            if _fixed_is_valid(value, iban.is_valid, fix):  # the longest of the right shape
                if not iban.is_valid(value):
                    yield m.start(), m.start() + end
                break


def _card_grouping(written: str) -> bool:
    """Groups as cards print them (4 4 4 4, 4 4 4 4 3, 4 6 5, 4 6 4), or one run of digits
    as long as most cards are: 16 digits, 15 (American Express), 19 from 62 (UnionPay).

    Other long runs (a 19-digit serial number from 4...) are more often not cards.
    """
    sizes = [len(g) for g in re.findall("[0-9]+", written)]
    if len(sizes) == 1:
        digits = _digits(written)
        return len(digits) == 16 or digits[:2] in ("34", "37") or digits[:2] == "62"
    if sizes[0] != 4:
        return False
    grouped = all(s == 4 for s in sizes[1:-1]) and 1 <= sizes[-1] <= 4
    return grouped or sizes in ([4, 6, 5], [4, 6, 4])


def _possible_cards(text: str, region: str) -> Iterator[Span]:
    """Card-shaped digits (a network's issuer range and length) that fail the Luhn check."""
    runs = {m.span() for m in _RUN.finditer(text)}
    for span, digits in _windows(text, 13, 19):
        written = text[span[0] : span[1]]
        if len(_digits(written)) == len(written) and span not in runs:
            continue  # a single group cut out of a longer run is no card
        if not _card_grouping(written) or luhn.is_valid(digits):
            continue
        if _is_card(digits[:-1] + luhn.calc_check_digit(digits[:-1])):
            yield span


def _possible_clabes(text: str, region: str) -> Iterator[Span]:
    """18 digits after "CLABE" with a wrong check digit."""
    for m in _CLABE_AFTER_KEYWORD.finditer(text):
        digits = _digits(m["n"])
        if len(digits) == 18 and not _is_clabe(digits):
            yield m.span("n")


_POSSIBLE: tuple[Finder, ...] = (
    _near_miss(_CN_RIC, ric.is_valid, _last(ric.calc_check_digit, 17)),
    _near_miss(_CURP, curp.is_valid, _last(curp.calc_check_digit, 17)),
    _near_miss(
        _RFC_FULL,
        partial(rfc.is_valid, validate_check_digits=True),
        _last(rfc.calc_check_digit, 12),
    ),
    _near_miss(_ES_DNI, dni.is_valid, _last(dni.calc_check_digit, 8)),
    _near_miss(_ES_NIE, nie.is_valid, _last(nie.calc_check_digit, 8)),
    _possible_ibans,
    _possible_clabes,
    _possible_cards,
)


def _possible_ids(text: str, region: str) -> Iterator[Span]:
    for find in _POSSIBLE:
        yield from find(text, region)


# -- What is never sensitive -----------------------------------------------------------------

_TOKEN = r"[A-Za-z0-9]*[0-9][A-Za-z0-9/-]*"
"""An order or reference number: one token holding a digit (T-12345, 2024110212345678)."""
_REFERENCE = re.compile(
    rf"{_LATIN}(?:订单号|订单编号|订单|单号|流水号|交易号|合同号|合同编号|借款编号|借据号|工单号|"
    r"参考号|案件号|投诉编号|folio|referencia|ref\.?|pedido|orden|order|ticket|reference|"
    r"invoice|factura|contrato|expediente|solicitud|tracking|loan|pr[ée]stamo)"
    r"(?:\s*(?:no\.?|nro\.?|n[°º]\.?|number|n[úu]mero|num\.?|id|de pago|号码?|是|为|#|:|：))*\s*"
    rf"{_A}(?P<n>{_TOKEN})",
    re.IGNORECASE,
)
_AMOUNT = r"[0-9]+(?:[.,' ][0-9]{3})*(?:[.,][0-9]{1,2})?(?![0-9])"
_CURRENCY_BEFORE = re.compile(
    rf"(?:[$€¥￥£]|{_LATIN}(?:S/\.?|MXN|USD|COP|PEN|EUR|RMB|CNY|US\$|MX\$|COL\$))\s?"
    rf"(?P<n>{_AMOUNT})"
)
_CURRENCY_AFTER = re.compile(
    rf"{_A}(?P<n>{_AMOUNT})\s?(?:元|块|万|千|€|"
    r"(?:euros?|pesos?|soles?|d[óo]lares|dollars?|USD|MXN|COP|PEN|EUR|RMB|CNY)(?![A-Za-z]))",
    re.IGNORECASE,
)
_DATE_TIME_PERCENT = re.compile(
    r"(?<![0-9.,])(?P<n>"
    r"[0-9]{4}([-/.])[0-9]{1,2}\2[0-9]{1,2}"  # 2026-11-02
    r"|[0-9]{1,2}([-/.])[0-9]{1,2}\3[0-9]{4}"  # 02/11/2026
    r"|(?:[0-9]{4}年)?[0-9]{1,2}月(?:[0-9]{1,2}[日号])?"  # 2026年11月2日
    r"|[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?"  # 14:30
    r"|[0-9]+(?:[.,][0-9]+)?\s?%"  # 36,5 %
    r")(?![0-9])"
)
_NEVER_SENSITIVE = (_REFERENCE, _CURRENCY_BEFORE, _CURRENCY_AFTER, _DATE_TIME_PERCENT)


def _never_sensitive(text: str) -> list[Span]:
    """Spans of order, loan and reference numbers, amounts, dates, times and percentages."""
    return [m.span("n") for pattern in _NEVER_SENSITIVE for m in pattern.finditer(text)]


# -- Detection -------------------------------------------------------------------------------


POSSIBLE_ID = "possible_id"
"""The kind of an ID, card or account number whose check digit is wrong."""


@dataclass(frozen=True)
class Detector:
    kind: str
    """The ``Finding.kind``; its label is the text ``finding.<kind>``."""
    find: Finder
    """(text, phone region) -> spans of the numbers of this kind."""


DETECTORS: tuple[Detector, ...] = (
    # Most specific first: on overlapping spans of equal length the earlier kind wins.
    Detector("email", _emails),
    Detector("resident_id", _validated(_CN_RIC, ric.is_valid)),
    Detector("mx_curp", _validated(_CURP, curp.is_valid)),
    Detector("mx_rfc", _rfcs),
    Detector("es_dni", _validated(_ES_DNI, dni.is_valid)),
    Detector("es_nie", _validated(_ES_NIE, nie.is_valid)),
    Detector("iban", _ibans),
    Detector("mx_clabe", _clabes),
    Detector("bank_card", _cards),
    Detector("pe_dni", _pe_cuis),
    Detector("co_cedula", _co_cedulas),
    Detector("passport", _passports),
    Detector("bank_account", _bank_accounts),
    Detector("phone", _phones),
    Detector(POSSIBLE_ID, _possible_ids),
)
KINDS: tuple[str, ...] = tuple(d.kind for d in DETECTORS)


def find_sensitive(text: str, region: str = "") -> list[Finding]:
    """Return the sensitive numbers in the text, in order of appearance, each value once.

    ``region`` is the jurisdiction's phone region ("CN", "MX"...; "" for none): it reads phone
    numbers written without a country code and enables the bare CLABE and Peruvian DNI forms.
    """
    findings: list[Finding] = []
    for start, end, rank in _resolve(_candidates(text.translate(_FULLWIDTH), region)):
        value = text[start:end]
        if all(f.value != value for f in findings):
            findings.append(Finding(kind=DETECTORS[rank].kind, value=value))
    return findings


Candidate = tuple[int, int, int]
"""(start, end, rank of the detector in DETECTORS)."""


def _candidates(text: str, region: str) -> list[Candidate]:
    """What every detector finds, less what overlaps an amount, date or reference number."""
    excluded = _never_sensitive(text)
    return [
        (start, end, rank)
        for rank, detector in enumerate(DETECTORS)
        for start, end in detector.find(text, region)
        if not any(_overlap((start, end), span) for span in excluded)
    ]


def _resolve(candidates: list[Candidate]) -> list[Candidate]:
    """Keep the longest of overlapping candidates, then the most specific; in text order.

    Valid numbers are chosen first: a possible ID only fills what none of them covers.
    """
    possible = KINDS.index(POSSIBLE_ID)
    chosen: list[Candidate] = []
    for start, end, rank in sorted(
        candidates, key=lambda c: (c[2] == possible, c[0] - c[1], c[2], c[0])
    ):
        if not any(_overlap((start, end), (s, e)) for s, e, _ in chosen):
            chosen.append((start, end, rank))
    return sorted(chosen)


def _overlap(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


# -- Masking ---------------------------------------------------------------------------------


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
    return redact(text, findings)[0]


Masked = tuple[int, int, str]
"""A masked span of a text: (start, end, kind), in characters of the original."""


def redact(text: str, findings: Iterable[Finding]) -> tuple[str, list[Masked]]:
    """Mask every occurrence of each finding the user did not choose to show.

    Return the redacted text and the spans masked, in the original's characters. The
    longest values go first, so a number inside a longer one is not masked twice.
    """
    spans: list[Masked] = []
    for finding in sorted(findings, key=lambda f: len(f.value), reverse=True):
        if finding.show or not finding.value:
            continue
        start = text.find(finding.value)
        while start != -1:
            end = start + len(finding.value)
            if not any(_overlap((start, end), (s, e)) for s, e, _ in spans):
                spans.append((start, end, finding.kind))
            start = text.find(finding.value, end)
    spans.sort()
    parts, last = [], 0
    for start, end, _ in spans:
        parts += [text[last:start], mask(text[start:end])]
        last = end
    parts.append(text[last:])
    return "".join(parts), spans


# -- How many people: counts typed exactly or roughly ----------------------------------------

COUNT_RANGES: tuple[tuple[str, int], ...] = (("none", 0), ("few", 10), ("some", 50))
"""The ranges a count of people falls in, by their highest number; above them: "many"."""

_ZH_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}  # fmt: skip
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_WORDS = {
    **dict.fromkeys(("one", "uno"), 1), **dict.fromkeys(("two", "dos"), 2),
    **dict.fromkeys(("three", "tres"), 3), **dict.fromkeys(("four", "cuatro"), 4),
    **dict.fromkeys(("five", "cinco"), 5), **dict.fromkeys(("six", "seis"), 6),
    **dict.fromkeys(("seven", "siete"), 7), **dict.fromkeys(("eight", "ocho"), 8),
    **dict.fromkeys(("nine", "nueve"), 9), **dict.fromkeys(("ten", "diez"), 10),
    **dict.fromkeys(("twelve", "doce"), 12), **dict.fromkeys(("fifteen", "quince"), 15),
    **dict.fromkeys(("twenty", "veinte"), 20), **dict.fromkeys(("thirty", "treinta"), 30),
    **dict.fromkeys(("forty", "cuarenta"), 40), **dict.fromkeys(("fifty", "cincuenta"), 50),
    **dict.fromkeys(("sixty", "sesenta"), 60), **dict.fromkeys(("seventy", "setenta"), 70),
    **dict.fromkeys(("eighty", "ochenta"), 80), **dict.fromkeys(("ninety", "noventa"), 90),
    **dict.fromkeys(("hundred", "a hundred", "one hundred", "cien", "ciento"), 100),
    **dict.fromkeys(("doscientos", "two hundred"), 200), "quinientos": 500,
    **dict.fromkeys(("mil", "a thousand", "one thousand"), 1000),
}  # fmt: skip
"""Number words in Spanish and English a count may be typed in."""
_ROUGH_WORDS = {
    # A vague amount counts at its lowest reading: a complaint must not overstate it.
    "none": r"0|ningun[oa]?|nadie|none|nobody|no one|没有|无|零",
    "unknown": r"no s[eé](?: cu[aá]nt[oa]s)?|ni idea|i don'?t know|not sure|不知道|不清楚|不确定",
    "few": r"unos (?:cuantos|pocos)|unas (?:cuantas|pocas)|algun[oa]s|poc[oa]s|"
    r"(?:a )?few|a couple|some of them|几个|几位|两三个|三四个|三五个|一些",
    "some": r"una (?:docena|veintena|treintena|cuarentena|cincuentena)|decenas|docenas|"
    r"a dozen|dozens|tens|几十|十几|数十|好几十|二三十|三四十|四五十",
    "many": r"un centenar|cientos|centenares|miles|hundreds|thousands|"
    r"几百|上百|数百|好几百|成百|几千|上千|数千",
}
_UNIT = r"\s*(?:个|人|位|名|个人|contactos?|personas?|amig[oa]s|people|contacts?|friends)?"
_LOWER = re.compile(
    r"^(?:more than|over|above|at least|m[aá]s de|al menos|por lo menos|arriba de|超过|多于|至少)"
    r"\s*(?P<n>.+?)$"
    r"|^(?P<m>.+?)\s*(?:\+|多|余|以上|or more|and more|o m[aá]s|y pico|y tantos)$"
)
_UPPER = re.compile(
    r"^(?:less than|fewer than|under|below|menos de|no m[aá]s de|不到|少于)\s*(?P<n>.+?)$"
    r"|^(?P<m>.+?)\s*(?:以下|以内|or less|o menos)$"
)
_ABOUT = re.compile(
    r"^(?:about|around|roughly|approximately|approx\.?|maybe|perhaps|like|nearly|almost|some|"
    r"unos|unas|como|cerca de|aproximadamente|aprox\.?|alrededor de|más o menos|mas o menos|"
    r"casi|tal vez|quiz[aá]s?|大概|大约|约|差不多|将近|接近|可能|估计|应该有)\s*(?P<n>.+?)$"
    r"|^(?P<m>.+?)\s*(?:左右|上下|来个|来|or so|ish|más o menos|mas o menos|aprox\.?|"
    r"aproximadamente|m[aá]s o menos)$"
)


def count_range(count: int) -> str:
    """Return the range id a number of people falls in: "none", "few", "some", "many"."""
    return next((name for name, top in COUNT_RANGES if count <= top), "many")


def read_count(text: str) -> str | None:
    """Read a typed number of people; None if the text is not one.

    Digits are that number ("3" -> "3"; "0" -> "none"). A rough count gives its range:
    "unos 80", "about 30", "200多个", "more than 50", "几十个", "una veintena" -> "many",
    "some"... (see :data:`COUNT_RANGES`); a vague one counts at its lowest reading.
    """
    t = re.sub(r"[\s.,;:!?¡¿。，！？~～]+$", "", text.translate(_FULLWIDTH).strip().casefold())
    t = re.sub(rf"{_UNIT}$", "", t).strip()
    exact = _number(t)
    if exact is not None:
        return count_range(exact) if exact == 0 else str(exact)
    for name, words in _ROUGH_WORDS.items():
        if re.fullmatch(rf"(?:{words}){_UNIT}", t):
            return name
    for pattern, shift in ((_LOWER, 1), (_ABOUT, 0), (_UPPER, -1)):
        m = pattern.match(t)
        value = _number(re.sub(rf"{_UNIT}$", "", m["n"] or m["m"]).strip()) if m else None
        if value is None:
            continue
        if shift < 0 and count_range(max(value - 1, 1)) != "few":
            return None  # "less than 30" may be 2 or 29: no range holds it
        return count_range(max(value + shift, 1))
    return None


def _number(text: str) -> int | None:
    """A whole number in digits, in Chinese numerals (三十五, 两百) or in words (veinte)."""
    if re.fullmatch(r"[0-9]{1,6}", text):
        return int(text)
    if text in _WORDS:
        return _WORDS[text]
    if text and all(ch in _ZH_DIGITS or ch in _ZH_UNITS for ch in text):
        total, digit = 0, None
        for ch in text:
            if ch in _ZH_DIGITS:
                digit = _ZH_DIGITS[ch]
            else:
                total += (1 if digit is None else digit) * _ZH_UNITS[ch]
                digit = None
        return total + (digit or 0)
    return None
