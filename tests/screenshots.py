"""Synthetic chat screenshots with ground truth, for testing the OCR of evidence.

A screenshot is drawn with Pillow as a phone screen (1080 pixels wide unless asked
otherwise): a status bar, a header with the chat's title, and message bubbles in the look of
WeChat, WhatsApp or a phone's SMS app, or the rows of a call log, over a bottom bar. The
messages are written in the manner of abusive loan collectors, in Spanish, simplified
Chinese or English, threatening to tell the borrower's contacts, and they carry what a
victim's evidence has to be read for: phone numbers, Chinese resident ID numbers, Mexican
CURPs, bank card numbers, amounts, dates, times and the names of lending apps.

Each of those is listed as an ``Entity``: the exact characters drawn, a normalised value
(E.164 phone numbers, ISO dates, "1500.00 CNY" amounts...), whose it is (the victim's, a
collector's, a contact's) and its box in the final image, measured from the glyphs the font
drew and scaled with the image when it is downscaled. An entity is never split across a
line wrap.

Everything is decided by a ``random.Random`` seeded with the caller's seed, so a seed always
gives the same bytes (with the same Pillow and the same fonts). Nothing is written to disk:
images are returned encoded, as PNG or JPEG (quality 70).
"""

from __future__ import annotations

import io
import math
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import matplotlib
import phonenumbers
from PIL import Image, ImageDraw, ImageFont
from stdnum.cn import ric as stdnum_ric
from stdnum.mx import curp as stdnum_curp

FONTS: dict[str, Path] = {
    # WenQuanYi Micro Hei: CJK and Latin.
    "wqy": Path(__file__).resolve().parent.parent / "content" / "fonts" / "wqy-microhei.ttc",
    # DejaVu Sans, bundled with matplotlib: Latin only, never used for Chinese.
    "dejavu": Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf",
}

LANGS = ("es", "zh-Hans", "en")
STYLES = ("wechat", "whatsapp", "sms", "calllog")
ENCODINGS = ("png", "jpeg70")
REGIONS = {"es": "MX", "zh-Hans": "CN", "en": "US"}
CURRENCIES = {"es": "MXN", "zh-Hans": "CNY", "en": "USD"}


@dataclass(frozen=True)
class Entity:
    """One piece of evidence drawn in a screenshot.

    ``kind`` is "phone", "resident_id", "curp", "card", "amount", "date", "time" or "app";
    ``text`` is exactly the characters drawn; ``value`` is the normalised form (E.164 for
    phones, the bare digits and letters for IDs and cards, "1500.00 CNY" for amounts, ISO
    "2026-11-03" for dates, "22:41" for times, the name for apps); ``box`` is (x0, y0, x1,
    y1) of the drawn glyphs in the final image's pixels, x1 and y1 exclusive as in Pillow's
    crop boxes; ``owner`` is "victim", "collector", "contact" or "" (amounts, dates, times,
    apps).
    """

    kind: str
    text: str
    value: str
    box: tuple[int, int, int, int]
    owner: str


@dataclass(frozen=True)
class Shot:
    """An encoded screenshot with what was drawn in it.

    ``messages`` lists, in order, each message (or call-log row) as the time drawn for it
    ("" when none is) and its text, for reference.
    """

    name: str
    data: bytes
    mime: str
    lang: str
    style: str
    dark: bool
    width: int
    height: int
    entities: tuple[Entity, ...]
    messages: tuple[tuple[str, str], ...]


# A tag marks a drawn piece of text as an entity: (kind, value, owner).
_Tag = tuple[str, str, str]
_Piece = tuple[str, _Tag | None]

# --- What the collectors (and the victims) write --------------------------------------------

APPS = {
    "zh-Hans": ("闪电借", "快易贷", "金满仓", "速贷通", "好借宝"),
    "es": ("PrestaYa", "DineroFácil", "CrediRápido", "PesoListo", "LanaExpress"),
    "en": ("CashNow", "QuickLoan Pro", "FastFunds", "LoanBee", "PayDay Go"),
}

# Placeholders: {app}, {amount}, {date} (a deadline), {time} (a deadline), {n} (a number of
# days, plain text), {phone_c} / {phone_v} / {phone_k} (a collector's, the victim's and a
# contact's number), {card_c} / {card_v} (a collector's account and the victim's card),
# {rid_v} (the victim's Chinese resident ID), {curp_v} (the victim's CURP).
_COLLECTOR = {
    "zh-Hans": (
        "你在{app}的借款{amount}已经逾期{n}天了，今天{time}前必须还清。",
        "再不还钱，我们就把你的欠款信息发给你通讯录里的所有人。",
        "你的紧急联系人{phone_k}我们已经打过了，要不要让你全家都知道？",
        "最后通知：{date}前不处理，你的照片和欠款信息会发到你的同事群。",
        "有事打{phone_c}，别装死，我们知道你在哪里上班。",
        "你的手机号{phone_v}已经登记在案，换号也没用。",
        "本金加逾期费一共{amount}，马上转到{card_c}，户名王强。",
        "不还钱就等着被曝光吧，{app}的律师函{date}就寄到你家。",
        "我们已经给你妈打电话了，下一个就是你老板。",
        "{time}之前看不到{amount}到账，通讯录里每个人都会收到短信。",
        "你的身份证{rid_v}和银行卡{card_v}都在我们系统里。",
    ),
    "es": (
        "Tu préstamo de {amount} en {app} lleva {n} días vencido. Paga hoy antes de las "
        "{time} o avisamos a todos tus contactos.",
        "Ya tenemos la lista de tus contactos. Si no pagas, les mandamos tu foto con la "
        "palabra DEUDOR.",
        "Tu referencia {phone_k} ya fue notificada. ¿Quieres que tu familia se entere?",
        "Último aviso: si no liquidas antes del {date}, publicamos tus datos en redes.",
        "Comunícate al {phone_c} para pagar. No te escondas, sabemos dónde trabajas.",
        "Sabemos que tu número es {phone_v}. Cambiar de chip no te va a servir.",
        "Con intereses y multas debes {amount}. Deposita a la tarjeta {card_c} hoy mismo.",
        "Ya le llamamos a tu mamá. Sigue tu jefe, y el {date} vamos a tu casa.",
        "Si a las {time} no vemos {amount} en la cuenta, todos tus contactos reciben un mensaje.",
        "Tenemos tu CURP {curp_v} y tu tarjeta {card_v}. No te hagas.",
    ),
    "en": (
        "Your {app} loan of {amount} is {n} days overdue. Pay before {time} today or we "
        "contact everyone in your phone book.",
        "We already have your contact list. If you don't pay, they all get your photo "
        "marked DEBTOR.",
        "Your reference {phone_k} has been notified. Do you want your whole family to know?",
        "Final notice: settle before {date} or your details go on social media.",
        "Call {phone_c} to pay. Don't hide, we know where you work.",
        "We know your number is {phone_v}. Changing your SIM won't help.",
        "With interest and late fees you owe {amount}. Send it to card {card_c} today.",
        "We called your mother already. Your boss is next, and on {date} we visit your home.",
        "If {amount} is not in the account by {time}, every contact you have gets a message.",
        "We have your card {card_v} on file. Pay now.",
    ),
}

_VICTIM = {
    "zh-Hans": (
        "我已经还了{amount}，请不要再骚扰我的家人。",
        "我{date}之前会还，请不要打给我的联系人。",
        "你们是哪个公司的？",
        "请不要再打电话了，我会报警。",
    ),
    "es": (
        "Ya pagué {amount}, dejen de molestar a mi familia.",
        "Voy a pagar el {date}, por favor no llamen a mis contactos.",
        "¿De qué empresa son ustedes?",
        "Por favor dejen de llamarme o voy a denunciar.",
    ),
    "en": (
        "I already paid {amount}, stop harassing my family.",
        "I will pay on {date}, please do not call my contacts.",
        "Which company are you from?",
        "Stop calling me or I will report you.",
    ),
}

# Messages in which a collector quotes the victim's own identity numbers.
_QUOTES_ID = {
    "zh-Hans": (
        "你的身份证号码{rid_v}，我们已经查到你的户籍地址了。",
        "你名下的银行卡{card_v}已经登记，不还款就冻结。",
        "你的手机号{phone_v}和通讯录我们全部备份了，{date}前不还就群发。",
    ),
    "es": (
        "Tenemos tu CURP {curp_v} y tu domicilio.",
        "Tu tarjeta {card_v} ya está registrada, la vamos a reportar al buró.",
        "Tu celular {phone_v} y tus contactos ya están en nuestro sistema. Paga antes del {date}.",
    ),
    "en": (
        "Your card {card_v} is on file with us.",
        "Your phone {phone_v} and your contacts are in our system. Pay before {date}.",
    ),
}

_COLLECTOR_NAMES = {
    "zh-Hans": ("王经理", "李专员", "催收部-张", "法务部 刘"),
    "es": ("Lic. Ramírez", "Gestor Hernández", "Despacho Jurídico", "Cobranza"),
    "en": ("Agent Miller", "Collections Dept", "Recovery Team", "J. Carter"),
}
_APP_TITLE = {"zh-Hans": "{app}客服", "es": "Cobranza {app}", "en": "{app} Support"}
_SMS_TITLE = {"zh-Hans": "短信", "es": "Mensajes", "en": "Messages"}
_CALLS_TITLE = {"zh-Hans": "通话记录", "es": "Llamadas recientes", "en": "Recents"}
_MISSED = {"zh-Hans": "未接来电", "es": "Perdida", "en": "Missed"}
_PLACEHOLDER = {"zh-Hans": "发消息", "es": "Mensaje", "en": "Message"}
_CN_PLACES = ("北京", "上海", "广东深圳", "浙江杭州", "四川成都", "湖北武汉")

# --- Numbers ---------------------------------------------------------------------------------

_CN_MOBILE = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "155", "156", "157", "158", "159", "166", "177", "180", "182", "185", "186", "187",
    "188", "189", "198", "199",
)  # fmt: skip
_MX_AREAS = ("55", "55", "33", "81", "222", "442", "477", "664", "998")
_US_AREAS = ("212", "213", "305", "312", "404", "415", "503", "617", "646", "702", "713")
_CN_AREAS = ("110105", "310104", "440106", "440305", "510107", "330106", "420106", "320106")
_CARD_PREFIXES = {
    "zh-Hans": ("622202", "621700", "622848", "622588", "621226"),
    "es": ("415231", "557910", "491566", "520416"),
    "en": ("414720", "426684", "542418", "552433", "438857"),
}
_SURNAMES = (
    "GARCIA", "HERNANDEZ", "LOPEZ", "MARTINEZ", "GONZALEZ", "RODRIGUEZ", "PEREZ",
    "SANCHEZ", "RAMIREZ", "TORRES", "FLORES", "RIVERA", "MORALES", "JIMENEZ",
)  # fmt: skip
_GIVEN = (("JUAN", "H"), ("LUIS", "H"), ("CARLOS", "H"), ("JORGE", "H"), ("MIGUEL", "H"),
          ("PEDRO", "H"), ("ANA", "M"), ("SOFIA", "M"), ("LAURA", "M"), ("ELENA", "M"),
          ("ROSA", "M"), ("DANIELA", "M"))  # fmt: skip
_CURP_STATES = ("DF", "MC", "JC", "NL", "PL", "VZ", "GT", "CH", "YN", "OC")
_CURP_ALPHABET = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _national_phone(rng: random.Random, region: str) -> str:
    """A national significant number that phonenumbers accepts as valid for the region."""
    while True:
        if region == "CN":
            national = rng.choice(_CN_MOBILE) + _digits(rng, 8)
        elif region == "MX":
            area = rng.choice(_MX_AREAS)
            national = area + _digits(rng, 10 - len(area))
        else:
            exchange = str(rng.randint(2, 9)) + _digits(rng, 2)
            if exchange == "555" or exchange[1:] == "11":
                continue
            national = rng.choice(_US_AREAS) + exchange + _digits(rng, 4)
        if phonenumbers.is_valid_number(phonenumbers.parse(national, region)):
            return national


def _phone_formats(national: str, region: str) -> tuple[str, ...]:
    """The ways people write a number in the region; the first is WhatsApp's own."""
    n = national
    if region == "CN":
        a, b, c = n[:3], n[3:7], n[7:]
        return (f"+86 {a} {b} {c}", n, f"{a} {b} {c}", f"+86 {a}-{b}-{c}", f"+86 {n}",
                f"{a}-{b}-{c}")  # fmt: skip
    if region == "MX":
        cut = 2 if n[:2] in ("55", "33", "81") else 3
        a, rest = n[:cut], n[cut:]
        g = f"{a} {rest[:-4]} {rest[-4:]}"
        return (f"+52 {g}", g, n, f"+52 {n}", g.replace(" ", "-"))
    a, b, c = n[:3], n[3:6], n[6:]
    return (f"+1 {a}-{b}-{c}", f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"+1 {a} {b} {c}",
            f"+1 ({a}) {b}-{c}", f"{a}.{b}.{c}")  # fmt: skip


def _e164(national: str, region: str) -> str:
    number = phonenumbers.parse(national, region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _luhn_digit(partial: str) -> str:
    """The check digit that makes partial + digit pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def _card(rng: random.Random, lang: str) -> str:
    partial = rng.choice(_CARD_PREFIXES[lang])
    partial += _digits(rng, 15 - len(partial))
    return partial + _luhn_digit(partial)


def _birth_date(rng: random.Random) -> date:
    return date(1975, 1, 1) + timedelta(days=rng.randrange(30 * 365))


def _ric_check(body: str) -> str:
    """The ISO 7064 MOD 11-2 check character of a Chinese resident ID's first 17 digits."""
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(body))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _resident_id(rng: random.Random) -> str:
    while True:
        born = _birth_date(rng)
        body = rng.choice(_CN_AREAS) + born.strftime("%Y%m%d") + _digits(rng, 3)
        number = body + _ric_check(body)
        if stdnum_ric.is_valid(number):  # place codes are checked against the birth year
            return number


def _curp_check(body: str) -> str:
    total = sum(_CURP_ALPHABET.index(c) * (18 - i) for i, c in enumerate(body))
    return str((10 - total % 10) % 10)


def _curp(rng: random.Random) -> str:
    def vowel(word: str) -> str:
        return next((c for c in word[1:] if c in "AEIOU"), "X")

    def consonant(word: str) -> str:
        return next((c for c in word[1:] if c not in "AEIOU"), "X")

    while True:
        paternal, maternal = rng.choice(_SURNAMES), rng.choice(_SURNAMES)
        given, sex = rng.choice(_GIVEN)
        born = _birth_date(rng)
        body = (
            paternal[0] + vowel(paternal) + maternal[0] + given[0]
            + born.strftime("%y%m%d") + sex + rng.choice(_CURP_STATES)
            + consonant(paternal) + consonant(maternal) + consonant(given)
            + (rng.choice(string.digits) if born.year < 2000 else rng.choice("ABCDEF"))
        )  # fmt: skip
        number = body + _curp_check(body)
        if stdnum_curp.is_valid(number):  # words that CURPs avoid are checked here
            return number


# --- Dates, times, amounts -------------------------------------------------------------------

_MONTHS = {
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}  # fmt: skip


def _date_text(rng: random.Random, lang: str, day: date, long: bool | None = None) -> str:
    """A date as people write it in the language: long ("3 de noviembre de 2026") or
    numeric ("03/11/2026", "2026-11-03"...), chosen at random unless ``long`` says."""
    y, m, d = day.year, day.month, day.day
    if lang == "zh-Hans":
        longs = [f"{y}年{m}月{d}日"]
        numeric = [day.isoformat(), f"{y}/{m:02d}/{d:02d}", f"{y}.{m:02d}.{d:02d}"]
    elif lang == "es":
        longs = [f"{d} de {_MONTHS['es'][m - 1]} de {y}"]
        numeric = [f"{d:02d}/{m:02d}/{y}", f"{d}/{m}/{y}", day.isoformat()]
    else:
        month = _MONTHS["en"][m - 1]
        longs = [f"{month} {d}, {y}", f"{month[:3]} {d}, {y}"]
        numeric = [f"{m:02d}/{d:02d}/{y}", f"{m}/{d}/{y}", day.isoformat()]
    if long is None:
        long = rng.random() < 0.5
    return rng.choice(longs if long else numeric)


def _time_text(moment: datetime, lang: str, h12: bool) -> str:
    if not h12:
        return f"{moment.hour:02d}:{moment.minute:02d}"
    hour = moment.hour % 12 or 12
    if lang == "es":
        return f"{hour}:{moment.minute:02d} {'a. m.' if moment.hour < 12 else 'p. m.'}"
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


# (format, shows cents, groups thousands): "{n}" is replaced by the number.
_AMOUNT_FORMATS = {
    "zh-Hans": (("¥{n}", True, True), ("{n}元", False, False), ("￥{n}", False, True),
                ("{n}元", True, True)),
    "es": (("${n} MXN", False, True), ("$ {n}", True, True), ("{n} pesos", False, False),
           ("${n}", True, True), ("MXN {n}", False, True)),
    "en": (("${n}", True, True), ("USD {n}", False, False), ("$ {n}", False, True),
           ("{n} dollars", False, False), ("${n} USD", True, True)),
}  # fmt: skip


class _World:
    """The people, numbers and moments of one screenshot, and the entity pieces for them."""

    def __init__(self, rng: random.Random, lang: str) -> None:
        self.rng = rng
        self.lang = lang
        self.region = REGIONS[lang]
        self.app = rng.choice(APPS[lang])
        self.collectors = [_national_phone(rng, self.region) for _ in range(3)]
        self.victim = _national_phone(rng, self.region)
        self.contact = _national_phone(rng, self.region)
        self.rid = _resident_id(rng)
        self.curp_number = _curp(rng)
        self.card_v = _card(rng, lang)
        self.card_c = _card(rng, lang)
        self.h12 = lang == "en" or (lang == "es" and rng.random() < 0.3)
        day = date(2025, 1, 1) + timedelta(days=rng.randrange(700))
        self.start = datetime(day.year, day.month, day.day, rng.randint(8, 20), rng.randint(0, 59))

    def phone(self, owner: str, national: str | None = None, fmt: int | None = None) -> _Piece:
        if national is None:
            national = {"victim": self.victim, "contact": self.contact}.get(owner)
            national = national or self.rng.choice(self.collectors[:2])
        formats = _phone_formats(national, self.region)
        text = formats[fmt] if fmt is not None else self.rng.choice(formats)
        return text, ("phone", _e164(national, self.region), owner)

    def card(self, number: str, owner: str) -> _Piece:
        spaced = " ".join(number[i : i + 4] for i in range(0, 16, 4))
        return (spaced if self.rng.random() < 0.6 else number), ("card", number, owner)

    def amount(self) -> _Piece:
        fmt, cents_shown, grouped = self.rng.choice(_AMOUNT_FORMATS[self.lang])
        whole = self.rng.randrange(300, 20001, 50)
        cents = self.rng.choice((0, 0, 50, 80)) if cents_shown else 0
        number = f"{whole:,}" if grouped else str(whole)
        if cents_shown:
            number += f".{cents:02d}"
        return fmt.replace("{n}", number), (
            "amount",
            f"{whole}.{cents:02d} {CURRENCIES[self.lang]}",
            "",
        )

    def date(self, day: date, long: bool | None = None) -> _Piece:
        return _date_text(self.rng, self.lang, day, long), ("date", day.isoformat(), "")

    def time(self, moment: datetime) -> _Piece:
        return (
            _time_text(moment, self.lang, self.h12),
            ("time", f"{moment.hour:02d}:{moment.minute:02d}", ""),
        )

    def app_piece(self) -> _Piece:
        return self.app, ("app", self.app, "")

    def fill(self, template: str, when: datetime) -> list[_Piece]:
        """The template's text with each placeholder replaced by an entity piece."""
        pieces: list[_Piece] = []
        for part in re.split(r"(\{\w+\})", template):
            if not part:
                continue
            if not (part.startswith("{") and part.endswith("}")):
                pieces.append((part, None))
                continue
            key = part[1:-1]
            if key == "n":
                pieces.append((str(self.rng.randint(3, 45)), None))
            elif key == "app":
                pieces.append(self.app_piece())
            elif key == "amount":
                pieces.append(self.amount())
            elif key == "date":
                pieces.append(self.date(when.date() + timedelta(days=self.rng.randint(1, 7))))
            elif key == "time":
                deadline = when + timedelta(hours=self.rng.randint(1, 5))
                deadline = deadline.replace(minute=self.rng.choice((0, 0, 30)))
                pieces.append(self.time(deadline))
            elif key.startswith("phone_"):
                owner = {"c": "collector", "v": "victim", "k": "contact"}[key[-1]]
                pieces.append(self.phone(owner))
            elif key == "card_c":
                pieces.append(self.card(self.card_c, "collector"))
            elif key == "card_v":
                pieces.append(self.card(self.card_v, "victim"))
            elif key == "rid_v":
                pieces.append((self.rid, ("resident_id", self.rid, "victim")))
            elif key == "curp_v":
                pieces.append((self.curp_number, ("curp", self.curp_number, "victim")))
            else:
                raise KeyError(key)
        return pieces


# --- Text layout -----------------------------------------------------------------------------

_CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_TOKEN = re.compile(rf"\s+|[{_CJK}]|[^\s{_CJK}]+")
_NO_LINE_START = set("，。！？、；：）」』”’%…,.!?;:)")
_NO_LINE_END = set("（「『“‘(¿¡")


@cache
def _font(key: str, size: int) -> ImageFont.FreeTypeFont:
    # The basic layout (no libraqm) so that the same text is laid out alike everywhere.
    return ImageFont.truetype(str(FONTS[key]), size, index=0, layout_engine=ImageFont.Layout.BASIC)


def _width(pieces: list[_Piece], font: ImageFont.FreeTypeFont) -> int:
    return sum(round(font.getlength(text)) for text, _ in pieces)


def _merge(tokens: list[_Piece]) -> list[_Piece]:
    """Joins neighbouring plain pieces; entity pieces stay whole and separate."""
    out: list[_Piece] = []
    for text, tag in tokens:
        if tag is None and out and out[-1][1] is None:
            out[-1] = (out[-1][0] + text, None)
        else:
            out.append((text, tag))
    return out


def _wrap(
    pieces: list[_Piece], font: ImageFont.FreeTypeFont, max_width: int
) -> list[list[_Piece]]:
    """Greedy line breaking: at spaces, and between CJK characters (not before closing
    punctuation, nor after opening punctuation); never inside an entity."""
    tokens: list[_Piece] = []
    for text, tag in pieces:
        if tag is not None:
            tokens.append((text, tag))
        else:
            tokens.extend((m.group(), None) for m in _TOKEN.finditer(text))

    def cjk(token: _Piece) -> bool:
        return token[1] is None and re.fullmatch(f"[{_CJK}]", token[0]) is not None

    units: list[list[_Piece]] = []
    for i, token in enumerate(tokens):
        prev = tokens[i - 1] if i else None
        if prev is None or token[0].isspace() or prev[0].isspace():
            brk = True
        else:
            brk = (
                (cjk(prev) or cjk(token))
                and token[0][0] not in _NO_LINE_START
                and prev[0][-1] not in _NO_LINE_END
            )
        if brk:
            units.append([token])
        else:
            units[-1].append(token)

    lines: list[list[_Piece]] = [[]]
    space: list[_Piece] = []
    for unit in units:
        if unit[0][0].isspace():
            space = unit
            continue
        candidate = lines[-1] + (space if lines[-1] else []) + unit
        if not lines[-1] or _width(_merge(candidate), font) <= max_width:
            lines[-1] = candidate
        else:
            lines.append(list(unit))
        space = []
    return [_merge(line) for line in lines]


# --- Drawing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Palette:
    bg: str
    statusbar: str
    header: str
    title: str
    incoming: str
    outgoing: str
    text_in: str
    text_out: str
    meta: str
    pill: str
    bar: str
    field: str
    accent: str


_PALETTES = {
    ("wechat", False): _Palette("#EDEDED", "#EDEDED", "#EDEDED", "#191919", "#FFFFFF",
                                "#95EC69", "#191919", "#191919", "#9A9A9A", "", "#F7F7F7",
                                "#FFFFFF", "#07C160"),
    ("wechat", True): _Palette("#111111", "#111111", "#111111", "#D5D5D5", "#2C2C2C",
                               "#3EB575", "#D5D5D5", "#111111", "#7F7F7F", "", "#1E1E1E",
                               "#2C2C2C", "#07C160"),
    ("whatsapp", False): _Palette("#ECE5DD", "#054C44", "#075E54", "#FFFFFF", "#FFFFFF",
                                  "#DCF8C6", "#111B21", "#111B21", "#667781", "#E1F3FB",
                                  "#ECE5DD", "#FFFFFF", "#00A884"),
    ("whatsapp", True): _Palette("#0B141A", "#1F2C34", "#1F2C34", "#E9EDEF", "#202C33",
                                 "#005C4B", "#E9EDEF", "#E9EDEF", "#8696A0", "#182229",
                                 "#0B141A", "#2A3942", "#00A884"),
    ("sms", False): _Palette("#FFFFFF", "#F6F6F6", "#F6F6F6", "#000000", "#E9E9EB",
                             "#0B84FE", "#000000", "#FFFFFF", "#8E8E93", "", "#FFFFFF",
                             "#FFFFFF", "#0B84FE"),
    ("sms", True): _Palette("#000000", "#1C1C1E", "#1C1C1E", "#FFFFFF", "#26252A", "#0B84FE",
                            "#FFFFFF", "#FFFFFF", "#8E8E93", "", "#000000", "#1C1C1E",
                            "#0B84FE"),
    ("calllog", False): _Palette("#FFFFFF", "#FFFFFF", "#FFFFFF", "#000000", "#E5E5EA",
                                 "#E53935", "#000000", "#E53935", "#8E8E93", "", "#F6F6F6",
                                 "#FFFFFF", "#0B84FE"),
    ("calllog", True): _Palette("#000000", "#000000", "#000000", "#FFFFFF", "#2C2C2E",
                                "#FF453A", "#FFFFFF", "#FF453A", "#8E8E93", "", "#1C1C1E",
                                "#1C1C1E", "#0B84FE"),
}  # fmt: skip


def _ink_box(
    xy: tuple[int, int], text: str, font: ImageFont.FreeTypeFont
) -> tuple[int, int, int, int]:
    """The box of the glyphs ``text`` draws at ``xy``: the font's bounding box, narrowed to
    the pixels it actually inks (side bearings left out)."""
    x0, y0, x1, y1 = (int(v) for v in font.getbbox(text))
    mask = Image.new("L", (max(1, x1 - x0), max(1, y1 - y0)))
    ImageDraw.Draw(mask).text((-x0, -y0), text, font=font, fill=255)
    ink = mask.getbbox() or (0, 0, x1 - x0, y1 - y0)
    return xy[0] + x0 + ink[0], xy[1] + y0 + ink[1], xy[0] + x0 + ink[2], xy[1] + y0 + ink[3]


_Paint = Callable[[ImageDraw.ImageDraw, int], None]


@dataclass
class _Block:
    """Something stacked in the chat area: its height and how to paint it from a top y."""

    height: int
    paint: _Paint


@dataclass
class _Msg:
    incoming: bool
    pieces: list[_Piece]
    when: datetime


class _Screen:
    """Lays out and paints one screenshot, collecting the entities as it draws them."""

    def __init__(
        self,
        rng: random.Random,
        world: _World,
        style: str,
        dark: bool,
        font_key: str,
        width: int,
    ) -> None:
        self.rng = rng
        self.world = world
        self.lang = world.lang
        self.style = style
        self.dark = dark
        self.pal = _PALETTES[style, dark]
        self.w = width
        self.u = width / 1080
        self.size = self.s(rng.randint(40, 46))
        self.font_key = font_key
        self.body = self.font(self.size)
        self.small = self.font(round(self.size * 0.66))
        self.line_h = round(self.size * 1.42)
        self.found: list[tuple[_Tag, str, tuple[int, int, int, int]]] = []
        self.messages: list[tuple[str, str]] = []

    def s(self, v: float) -> int:
        return round(v * self.u)

    def font(self, size: int) -> ImageFont.FreeTypeFont:
        return _font(self.font_key, size)

    def put(
        self,
        draw: ImageDraw.ImageDraw,
        xy: tuple[int, int],
        pieces: list[_Piece],
        font: ImageFont.FreeTypeFont,
        fill: str,
    ) -> None:
        """Draws pieces left to right from xy (the top-left anchor, as Pillow's "la")."""
        x, y = xy
        for text, tag in pieces:
            if tag is not None:
                self.found.append((tag, text, _ink_box((x, y), text, font)))
            draw.text((x, y), text, font=font, fill=fill)
            x += round(font.getlength(text))

    def text_top(self, font: ImageFont.FreeTypeFont, row_top: int, row_h: int) -> int:
        ascent, descent = font.getmetrics()
        return row_top + (row_h - ascent - descent) // 2

    # --- The chrome: status bar, header, bottom bar ---

    def status_bar(self, draw: ImageDraw.ImageDraw, clock: datetime) -> int:
        h = self.s(84)
        draw.rectangle((0, 0, self.w, h), fill=self.pal.statusbar)
        ink = self.pal.title
        font = self.font(self.s(34))
        self.put(
            draw, (self.s(56), self.text_top(font, 0, h)), [self.world.time(clock)], font, ink
        )
        x = self.w - self.s(60)
        draw.rounded_rectangle(
            (x - self.s(64), self.s(30), x, self.s(56)), self.s(6), outline=ink, width=self.s(3)
        )
        draw.rectangle((x - self.s(58), self.s(36), x - self.s(22), self.s(50)), fill=ink)
        for i in range(4):
            bx = x - self.s(150) + i * self.s(14)
            draw.rectangle(
                (bx, self.s(54) - i * self.s(7) - self.s(6), bx + self.s(8), self.s(54)), fill=ink
            )
        return h

    def header(self, draw: ImageDraw.ImageDraw, top: int, title: list[_Piece]) -> int:
        pal, s = self.pal, self.s
        if self.style == "calllog":
            h = s(210)
            font = self.font(round(self.size * 1.55))
            self.put(
                draw, (s(48), self.text_top(font, top + s(60), s(130))), title, font, pal.title
            )
            return h
        h = s(150) if self.style != "sms" else s(230)
        draw.rectangle((0, top, self.w, top + h), fill=pal.header)
        arrow = pal.accent if self.style == "sms" else pal.title
        mid = top + (s(150) // 2 if self.style != "sms" else s(80))
        draw.line(
            (s(62), mid - s(24), s(38), mid, s(62), mid + s(24)),
            fill=arrow,
            width=s(6),
            joint="curve",
        )
        font = self.font(round(self.size * (1.05 if self.style != "sms" else 0.78)))
        tw = _width(title, font)
        if self.style == "wechat":
            self.put(
                draw, ((self.w - tw) // 2, self.text_top(font, top, h)), title, font, pal.title
            )
            for i in range(3):
                cx = self.w - s(110) + i * s(26)
                draw.ellipse((cx - s(6), mid - s(6), cx + s(6), mid + s(6)), fill=pal.title)
            draw.line((0, top + h - 1, self.w, top + h - 1), fill=pal.field)
        elif self.style == "whatsapp":
            draw.ellipse((s(84), mid - s(45), s(174), mid + s(45)), fill="#B4BEC4")
            self.put(draw, (s(200), self.text_top(font, top, h)), title, font, pal.title)
            for i in range(3):
                draw.ellipse(
                    (
                        self.w - s(52) - s(6),
                        mid - s(30) + i * s(24) - s(6),
                        self.w - s(52) + s(6),
                        mid - s(30) + i * s(24) + s(6),
                    ),
                    fill=pal.title,
                )
        else:
            cx = self.w // 2
            draw.ellipse((cx - s(56), top + s(20), cx + s(56), top + s(132)), fill="#A2A6B2")
            self.put(draw, ((self.w - tw) // 2, top + s(150)), title, font, pal.title)
            draw.line((0, top + h - 1, self.w, top + h - 1), fill=pal.incoming)
        return h

    def bottom_bar(self, draw: ImageDraw.ImageDraw, height: int) -> None:
        pal, s = self.pal, self.s
        top = height - self.bar_height()
        draw.rectangle((0, top, self.w, height), fill=pal.bar)
        if self.style == "calllog":
            draw.line((0, top, self.w, top), fill=pal.incoming, width=s(2))
            for i in range(4):
                cx = self.w * (2 * i + 1) // 8
                fill = pal.accent if i == 1 else pal.meta
                draw.ellipse((cx - s(24), top + s(30), cx + s(24), top + s(78)), fill=fill)
            return
        field = (s(130), top + s(26), self.w - s(140), top + s(126))
        if self.style == "wechat":
            draw.line((0, top, self.w, top), fill=pal.meta)
            draw.rounded_rectangle(field, s(12), fill=pal.field)
            for cx in (s(65), self.w - s(65)):
                draw.ellipse(
                    (cx - s(30), top + s(46), cx + s(30), top + s(106)),
                    outline=pal.title,
                    width=s(4),
                )
            return
        if self.style == "whatsapp":
            field = (s(24), top + s(22), self.w - s(140), top + s(130))
            draw.rounded_rectangle(field, s(54), fill=pal.field)
            draw.ellipse(
                (self.w - s(124), top + s(22), self.w - s(16), top + s(130)), fill=pal.accent
            )
        else:
            draw.rounded_rectangle(field, s(50), fill=pal.field, outline=pal.incoming, width=s(3))
            draw.ellipse((s(30), top + s(46), s(90), top + s(106)), fill=pal.incoming)
        font = self.font(round(self.size * 0.85))
        draw.text(
            (field[0] + s(44), self.text_top(font, field[1], field[3] - field[1])),
            _PLACEHOLDER[self.lang],
            font=font,
            fill=pal.meta,
        )

    def bar_height(self) -> int:
        return self.s(120) if self.style == "calllog" else self.s(152)

    # --- Blocks of the chat area ---

    def centred(self, pieces: list[_Piece], pill: bool) -> _Block:
        """A centred line of small text (a time or date separator), on a pill if asked."""
        font = self.small if not pill else self.font(round(self.size * 0.7))
        tw = _width(pieces, font)
        pad_x, pad_y = self.s(26), self.s(12)
        row = round(font.size * 1.4)
        h = row + 2 * pad_y + self.s(24)

        def paint(draw: ImageDraw.ImageDraw, y: int) -> None:
            x = (self.w - tw) // 2
            top = y + self.s(12)
            if pill:
                draw.rounded_rectangle(
                    (x - pad_x, top, x + tw + pad_x, top + row + 2 * pad_y),
                    self.s(16),
                    fill=self.pal.pill,
                )
            self.put(draw, (x, self.text_top(font, top + pad_y, row)), pieces, font, self.pal.meta)

        return _Block(h, paint)

    def bubble(self, msg: _Msg, stamp: _Piece | None) -> _Block:
        """A message bubble; ``stamp`` is the time drawn inside it (WhatsApp)."""
        pal, s = self.pal, self.s
        if self.style == "wechat":
            max_w, pad_x, pad_y, side, radius = round(self.w * 0.6), s(30), s(24), s(154), s(10)
        elif self.style == "whatsapp":
            max_w, pad_x, pad_y, side, radius = round(self.w * 0.7), s(26), s(16), s(40), s(18)
        else:
            max_w, pad_x, pad_y, side, radius = round(self.w * 0.64), s(36), s(22), s(40), s(44)
        lines = _wrap(msg.pieces, self.body, max_w)
        widths = [_width(line, self.body) for line in lines]
        text_w, text_h = max(widths), len(lines) * self.line_h
        stamp_w = stamp_h = 0
        stamp_inline = False
        if stamp is not None:
            stamp_w = _width([stamp], self.small) + (0 if msg.incoming else s(46))
            stamp_h = round(self.small.size * 1.3)
            if widths[-1] + s(24) + stamp_w <= max_w:
                stamp_inline = True
                text_w = max(text_w, widths[-1] + s(24) + stamp_w)
            else:
                text_w = max(text_w, stamp_w)
                text_h += stamp_h
        bw, bh = text_w + 2 * pad_x, text_h + 2 * pad_y
        fill = pal.incoming if msg.incoming else pal.outgoing
        ink = pal.text_in if msg.incoming else pal.text_out

        def paint(draw: ImageDraw.ImageDraw, y: int) -> None:
            x0 = side if msg.incoming else self.w - side - bw
            if self.style == "wechat":
                av = (s(30), y, s(130), y + s(100))
                if not msg.incoming:
                    av = (self.w - s(130), y, self.w - s(30), y + s(100))
                draw.rounded_rectangle(av, s(10), fill="#7A9CC6" if msg.incoming else "#C9A27E")
                tip = x0 - s(14) if msg.incoming else x0 + bw + s(14)
                base = x0 + s(2) if msg.incoming else x0 + bw - s(2)
                draw.polygon([(base, y + s(34)), (tip, y + s(50)), (base, y + s(66))], fill=fill)
            elif self.style == "whatsapp":
                if msg.incoming:
                    draw.polygon(
                        [(x0 + s(20), y), (x0 - s(16), y), (x0 + s(20), y + s(28))], fill=fill
                    )
                else:
                    xe = x0 + bw
                    draw.polygon(
                        [(xe - s(20), y), (xe + s(16), y), (xe - s(20), y + s(28))], fill=fill
                    )
            draw.rounded_rectangle((x0, y, x0 + bw, y + bh), radius, fill=fill)
            tx, ty = x0 + pad_x, y + pad_y
            for i, line in enumerate(lines):
                self.put(
                    draw,
                    (tx, self.text_top(self.body, ty + i * self.line_h, self.line_h)),
                    line,
                    self.body,
                    ink,
                )
            if stamp is not None:
                sx = x0 + bw - pad_x - stamp_w
                if stamp_inline:
                    row_top = ty + text_h - self.line_h
                    sy = row_top + self.line_h - stamp_h - s(2)
                else:
                    sy = ty + text_h - stamp_h
                self.put(
                    draw,
                    (sx, self.text_top(self.small, sy, stamp_h)),
                    [stamp],
                    self.small,
                    pal.meta,
                )
                if not msg.incoming:
                    cx, cy = x0 + bw - pad_x - s(38), sy + stamp_h // 2
                    for dx in (0, s(12)):
                        draw.line(
                            (cx + dx, cy, cx + dx + s(8), cy + s(8), cx + dx + s(24), cy - s(10)),
                            fill="#53BDEB",
                            width=s(3),
                        )

        gap = s(34) if self.style == "wechat" else s(22)
        height = max(bh, s(100)) if self.style == "wechat" else bh
        return _Block(height + gap, paint)

    def call_row(self, number: _Piece, when: datetime, missed: bool, seconds: int) -> _Block:
        pal, s = self.pal, self.s
        h = s(176)
        big = self.font(round(self.size * 1.02))
        small = self.font(round(self.size * 0.72))
        second: list[_Piece] = []
        if self.lang == "zh-Hans" and self.rng.random() < 0.6:
            second.append((self.rng.choice(_CN_PLACES) + "  ", None))
        second += [self.world.date(when.date(), long=False), (" ", None), self.world.time(when)]
        if missed:
            status = _MISSED[self.lang]
        elif self.lang == "zh-Hans":
            status = f"{seconds // 60}分{seconds % 60}秒"
        elif self.lang == "es":
            status = f"{seconds // 60} min {seconds % 60} s"
        else:
            status = f"{seconds // 60}m {seconds % 60}s"

        def paint(draw: ImageDraw.ImageDraw, y: int) -> None:
            draw.ellipse((s(40), y + s(43), s(130), y + s(133)), fill=pal.incoming)
            draw.line((s(64), y + s(104), s(106), y + s(72)), fill=pal.meta, width=s(6))
            self.put(
                draw,
                (s(164), self.text_top(big, y + s(22), s(74))),
                [number],
                big,
                pal.outgoing if missed else pal.text_in,
            )
            self.put(
                draw, (s(164), self.text_top(small, y + s(100), s(52))), second, small, pal.meta
            )
            sw = round(small.getlength(status))
            draw.text(
                (self.w - s(48) - sw, self.text_top(small, y + s(60), s(56))),
                status,
                font=small,
                fill=pal.outgoing if missed else pal.meta,
            )
            draw.line((s(164), y + h - 1, self.w, y + h - 1), fill=pal.incoming, width=s(2))

        row_text = "".join(text for text, _ in second)
        self.messages.append((second[-1][0], f"{number[0]} · {row_text} · {status}"))
        return _Block(h, paint)


# --- Conversations ---------------------------------------------------------------------------


def _gap(rng: random.Random, when: datetime) -> timedelta:
    if rng.random() < 0.12:
        nxt = (when + timedelta(days=1)).replace(
            hour=rng.randint(8, 11), minute=rng.randint(0, 59)
        )
        return nxt - when
    return timedelta(minutes=rng.choice((0, 1, 2, 3, 8, 15, 40, 90, 180)))


def _conversation(
    rng: random.Random, world: _World, count: int, first: tuple[str, ...] = ()
) -> list[_Msg]:
    """``count`` messages: mostly the collector's, with up to two replies from the victim;
    the ``first`` templates (the collector's) open the chat when given."""
    lang = world.lang
    pool = [t for t in _COLLECTOR[lang] if ("rid_v" not in t or lang == "zh-Hans")]
    rng.shuffle(pool)
    collector = list(first) + pool[: max(0, count - len(first))]
    replies = rng.sample(_VICTIM[lang], min(rng.choice((0, 1, 1, 2)), max(0, count - 3)))
    script = [(True, t) for t in collector[: count - len(replies)]]
    for reply in replies:
        script.insert(rng.randint(max(1, len(first)), len(script)), (False, reply))
    msgs, when = [], world.start
    for i, (incoming, template) in enumerate(script):
        if i:
            when += _gap(rng, when)
        msgs.append(_Msg(incoming, world.fill(template, when), when))
    return msgs


def _title(rng: random.Random, world: _World, style: str) -> list[_Piece]:
    lang = world.lang
    if style == "calllog":
        return [(_CALLS_TITLE[lang], None)]
    choice = rng.random()
    if style == "sms" and choice < 0.3:
        return [(_SMS_TITLE[lang], None)]
    if style != "wechat" and choice < 0.75:
        fmt = 0 if style == "whatsapp" else None
        return [world.phone("collector", world.collectors[0], fmt)]
    if choice < 0.5:
        before, _, after = _APP_TITLE[lang].partition("{app}")
        return [p for p in ((before, None), world.app_piece(), (after, None)) if p[0]]
    return [(rng.choice(_COLLECTOR_NAMES[lang]), None)]


def _groups(screen: _Screen, msgs: list[_Msg]) -> list[list[_Block]]:
    """The chat's blocks, grouped so that a separator stays with the message after it."""
    world, style = screen.world, screen.style
    groups: list[list[_Block]] = []
    last: _Msg | None = None
    for msg in msgs:
        group: list[_Block] = []
        new_day = last is None or msg.when.date() != last.when.date()
        gap = timedelta(hours=99) if last is None else msg.when - last.when
        drawn_time = ""
        stamp = None
        if style == "wechat" and (new_day or gap >= timedelta(minutes=5)):
            tm = world.time(msg.when)
            drawn_time = tm[0]
            pieces = [world.date(msg.when.date()), (" ", None), tm] if new_day else [tm]
            group.append(screen.centred(pieces, pill=False))
        elif style == "whatsapp":
            if new_day:
                group.append(screen.centred([world.date(msg.when.date(), long=True)], pill=True))
            stamp = world.time(msg.when)
            drawn_time = stamp[0]
        elif style == "sms" and (new_day or gap >= timedelta(minutes=60)):
            tm = world.time(msg.when)
            drawn_time = tm[0]
            pieces = [world.date(msg.when.date()), (" ", None), tm] if new_day else [tm]
            group.append(screen.centred(pieces, pill=False))
        group.append(screen.bubble(msg, stamp))
        screen.messages.append((drawn_time, "".join(t for t, _ in msg.pieces)))
        groups.append(group)
        last = msg
    return groups


def _call_groups(screen: _Screen, count: int) -> list[list[_Block]]:
    world, rng = screen.world, screen.rng
    when = world.start + timedelta(days=1)
    groups = []
    for _ in range(count):
        owner = "contact" if rng.random() < 0.1 else "collector"
        national = world.contact if owner == "contact" else rng.choice(world.collectors)
        missed = rng.random() < 0.6
        seconds = rng.randint(8, 400)
        groups.append([screen.call_row(world.phone(owner, national), when, missed, seconds)])
        when -= timedelta(minutes=rng.choice((3, 7, 20, 45, 90, 240, 600)))
    return groups


def _render(
    seed: int,
    *,
    lang: str,
    style: str,
    dark: bool,
    font: str,
    encoding: str,
    width: int,
    downscale_to: int | None,
    name: str,
    first: tuple[str, ...] = (),
) -> Shot:
    if lang not in LANGS or style not in STYLES or encoding not in ENCODINGS:
        raise ValueError(f"unknown language, style or encoding: {lang!r} {style!r} {encoding!r}")
    if font not in FONTS:
        raise ValueError(f"unknown font {font!r}")
    if font == "dejavu" and lang == "zh-Hans":
        raise ValueError("DejaVu Sans has no CJK glyphs")
    rng = random.Random(seed)
    world = _World(rng, lang)
    screen = _Screen(rng, world, style, dark, font, width)
    title = _title(rng, world, style)
    count = rng.randint(4, 9)
    if style == "calllog":
        groups = _call_groups(screen, count)
        clock = world.start + timedelta(days=1, minutes=rng.randint(1, 50))
    else:
        msgs = _conversation(rng, world, count, first)
        groups = _groups(screen, msgs)
        clock = msgs[-1].when + timedelta(minutes=rng.randint(0, 30))

    s = screen.s
    chrome_top = s(84) + (s(210) if style == "calllog" else s(230) if style == "sms" else s(150))
    # A screen between 1920 and 2300 pixels tall (at 1080 wide), taller than drawn if the
    # messages need it; those that do not fit in 2300 are left out (at least four stay).
    chrome = chrome_top + screen.bar_height() + s(40)
    height = s(rng.randint(1920, 2300))
    keep = len(groups)
    while keep > 4 and chrome + sum(b.height for g in groups[:keep] for b in g) > s(2300):
        keep -= 1
    height = max(height, chrome + sum(b.height for g in groups[:keep] for b in g))
    screen.messages = screen.messages[:keep]

    image = Image.new("RGB", (width, height), screen.pal.bg)
    draw = ImageDraw.Draw(image)
    top = screen.status_bar(draw, clock)
    top += screen.header(draw, top, title)
    y = top + s(24)
    for group in groups[:keep]:
        for block in group:
            block.paint(draw, y)
            y += block.height
    screen.bottom_bar(draw, height)

    sx = sy = 1.0
    if downscale_to is not None and downscale_to != width:
        if width % downscale_to == 0:
            # An exact factor: each pixel the mean of a square of pixels (as area resizing).
            factor = width // downscale_to
            image = image.reduce(factor)
            sx = sy = 1 / factor
        else:
            new_h = round(height * downscale_to / width)
            sx, sy = downscale_to / width, new_h / height
            image = image.resize((downscale_to, new_h), Image.Resampling.BICUBIC)
    w, h = image.size
    entities = []
    for (kind, value, owner), text, (x0, y0, x1, y1) in screen.found:
        box = (
            max(0, math.floor(x0 * sx)),
            max(0, math.floor(y0 * sy)),
            min(w, math.ceil(x1 * sx)),
            min(h, math.ceil(y1 * sy)),
        )
        entities.append(Entity(kind, text, value, box, owner))

    out = io.BytesIO()
    if encoding == "png":
        image.save(out, format="PNG", compress_level=1)
        mime, ext = "image/png", "png"
    else:
        image.save(out, format="JPEG", quality=70)
        mime, ext = "image/jpeg", "jpg"
    return Shot(
        name=f"{name}.{ext}",
        data=out.getvalue(),
        mime=mime,
        lang=lang,
        style=style,
        dark=dark,
        width=w,
        height=h,
        entities=tuple(entities),
        messages=tuple(screen.messages),
    )


def chat_screenshot(
    seed: int,
    *,
    lang: str,
    style: str,
    dark: bool = False,
    font: str = "wqy",
    encoding: str = "png",
    width: int = 1080,
    downscale_to: int | None = None,
) -> Shot:
    """A screenshot of a collector's chat (or of a call log) in ``lang`` and ``style``.

    ``encoding`` is "png" or "jpeg70" (JPEG at quality 70); ``downscale_to`` resizes the
    image to that width after drawing, and the entities' boxes with it (rounded outward).
    """
    parts = [lang, style, str(seed), font] + (["dark"] if dark else [])
    parts += [str(downscale_to)] if downscale_to else []
    return _render(
        seed,
        lang=lang,
        style=style,
        dark=dark,
        font=font,
        encoding=encoding,
        width=width,
        downscale_to=downscale_to,
        name="-".join(parts),
    )


def screenshot_set(seed: int = 0) -> list[Shot]:
    """60 screenshots: each language with each style five times, as PNG, JPEG at quality 70
    and 540-pixel-wide downscales, in both fonts (DejaVu only for Spanish and English), half
    of the WeChat and WhatsApp ones in dark mode."""
    rng = random.Random(seed)
    shots = []
    for li, lang in enumerate(LANGS):
        for si, style in enumerate(STYLES):
            for k in range(5):
                latin = lang != "zh-Hans"
                encoding, downscale, font = (
                    ("png", None, "wqy"),
                    ("jpeg70", None, "dejavu" if latin else "wqy"),
                    ("png", 540, "wqy"),
                    ("jpeg70", 540, "dejavu" if latin else "wqy"),
                    ("png", None, "dejavu" if latin else "wqy"),
                )[k]
                # Alternating by language and style too: 7 dark WeChat, 8 dark WhatsApp.
                dark = style in ("wechat", "whatsapp") and (k + li + si) % 2 == 1
                shot_seed = rng.randrange(2**32)
                parts = [f"set{seed}", f"{len(shots):02d}", lang, style, font, encoding]
                parts += (["dark"] if dark else []) + ([str(downscale)] if downscale else [])
                shots.append(
                    _render(
                        shot_seed,
                        lang=lang,
                        style=style,
                        dark=dark,
                        font=font,
                        encoding=encoding,
                        width=1080,
                        downscale_to=downscale,
                        name="-".join(parts),
                    )
                )
    return shots


def id_screenshot(seed: int = 0, *, lang: str = "zh-Hans") -> Shot:
    """A chat in which the collector quotes the victim's own identity numbers, all with
    owner "victim": the resident ID (Chinese), the CURP (Spanish, Mexico) or no national ID
    (English), and in every language a bank card number and the victim's phone number.
    WeChat for Chinese, WhatsApp otherwise."""
    style = "wechat" if lang == "zh-Hans" else "whatsapp"
    return _render(
        seed,
        lang=lang,
        style=style,
        dark=False,
        font="wqy",
        encoding="png",
        width=1080,
        downscale_to=None,
        name=f"id-{lang}-{seed}",
        first=_QUOTES_ID[lang],
    )
