"""Checks of the synthetic chat screenshots themselves: the set covers every language, style,
encoding and size; each entity's value is valid and consistent with its text; each box lies
inside the image over drawn ink; and a seed always gives the same bytes."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import date

import phonenumbers
import pytest
from PIL import Image
from stdnum import luhn
from stdnum.cn import ric
from stdnum.mx import curp

from tests.screenshots import (
    APPS,
    CURRENCIES,
    LANGS,
    REGIONS,
    STYLES,
    Shot,
    chat_screenshot,
    id_screenshot,
    screenshot_set,
)


@pytest.fixture(scope="module")
def shots() -> list[Shot]:
    return screenshot_set(0)


@pytest.fixture(scope="module")
def id_shots() -> list[Shot]:
    return [id_screenshot(3, lang=lang) for lang in LANGS]


def test_the_set_covers_languages_styles_encodings_sizes_and_dark_mode(shots: list[Shot]):
    assert len(shots) == 60
    assert len({shot.name for shot in shots}) == 60
    assert Counter(shot.lang for shot in shots) == {lang: 20 for lang in LANGS}
    assert Counter(shot.style for shot in shots) == {style: 15 for style in STYLES}
    assert {shot.mime for shot in shots} == {"image/png", "image/jpeg"}
    assert {shot.width for shot in shots} == {1080, 540}
    chats = [shot for shot in shots if shot.style in ("wechat", "whatsapp")]
    assert sum(shot.dark for shot in chats) == len(chats) // 2
    assert not any(shot.dark for shot in shots if shot.style not in ("wechat", "whatsapp"))
    assert any("dejavu" in shot.name for shot in shots)
    assert not any("dejavu" in shot.name for shot in shots if shot.lang == "zh-Hans")
    for shot in shots:
        image = Image.open(io.BytesIO(shot.data))
        assert image.size == (shot.width, shot.height)
        assert image.format == {"image/png": "PNG", "image/jpeg": "JPEG"}[shot.mime]
        assert 1900 <= shot.height * 1080 / shot.width <= 2320
        assert 4 <= len(shot.messages) <= 9
        assert "time" in {entity.kind for entity in shot.entities}
    kinds = {entity.kind for shot in shots for entity in shot.entities}
    assert kinds == {"phone", "resident_id", "curp", "card", "amount", "date", "time", "app"}


def test_every_entity_value_validates(shots: list[Shot], id_shots: list[Shot]):
    for shot in shots + id_shots:
        for entity in shot.entities:
            where = f"{shot.name}: {entity}"
            kind, text, value = entity.kind, entity.text, entity.value
            if kind == "phone":
                number = phonenumbers.parse(value)
                assert phonenumbers.is_valid_number(number), where
                assert phonenumbers.region_code_for_number(number) == REGIONS[shot.lang], where
                again = phonenumbers.parse(text, REGIONS[shot.lang])
                e164 = phonenumbers.format_number(again, phonenumbers.PhoneNumberFormat.E164)
                assert e164 == value, where
                assert entity.owner in ("victim", "collector", "contact"), where
            elif kind in ("resident_id", "curp", "card"):
                assert text.replace(" ", "") == value, where
                valid = {"resident_id": ric.is_valid, "curp": curp.is_valid}.get(kind)
                if kind == "card":
                    assert len(value) == 16, where
                    valid = luhn.is_valid
                assert valid is not None and valid(value), where
                assert entity.owner in ("victim", "collector"), where
            else:
                assert entity.owner == "", where
                if kind == "amount":
                    number, currency = value.split(" ")
                    assert re.fullmatch(r"\d+\.\d\d", number), where
                    assert currency == CURRENCIES[shot.lang], where
                    assert number.split(".")[0] in text.replace(",", ""), where
                elif kind == "date":
                    day = date.fromisoformat(value)
                    assert str(day.year) in text, where
                elif kind == "time":
                    hours, minutes = value.split(":")
                    assert len(value) == 5 and int(hours) < 24 and int(minutes) < 60, where
                    assert minutes in text, where
                else:
                    assert kind == "app" and text == value in APPS[shot.lang], where


def test_every_box_is_inside_the_image_over_ink(shots: list[Shot], id_shots: list[Shot]):
    for shot in shots + id_shots:
        image = Image.open(io.BytesIO(shot.data)).convert("L")
        for entity in shot.entities:
            x0, y0, x1, y1 = entity.box
            assert 0 <= x0 < x1 <= shot.width and 0 <= y0 < y1 <= shot.height, entity
            assert y1 - y0 <= 60 * shot.width / 1080, entity  # one line of text
            low, high = image.crop(entity.box).getextrema()
            assert high - low >= 40, f"{shot.name}: no ink under {entity}"


def test_entities_in_messages_are_drawn_whole(shots: list[Shot]):
    for shot in shots:
        if shot.style == "calllog":
            continue
        texts = " ".join(text for _, text in shot.messages)
        in_bubbles = [e for e in shot.entities if e.kind in ("phone", "card", "amount", "app")]
        for entity in in_bubbles:
            assert entity.text in texts or entity.box[1] < 300 * shot.width / 1080, entity


@pytest.mark.parametrize("style", STYLES)
def test_a_seed_gives_the_same_bytes(style: str):
    kwargs = {"lang": "es", "style": style, "dark": True, "font": "dejavu"}
    first = chat_screenshot(11, encoding="jpeg70", downscale_to=540, **kwargs)
    again = chat_screenshot(11, encoding="jpeg70", downscale_to=540, **kwargs)
    assert first.data == again.data
    assert first == again
    assert chat_screenshot(12, **kwargs).data != chat_screenshot(11, **kwargs).data


def test_id_screenshot_quotes_the_victims_own_numbers(id_shots: list[Shot]):
    expected = {"zh-Hans": "resident_id", "es": "curp", "en": None}
    for shot in id_shots:
        mine = {entity.kind for entity in shot.entities if entity.owner == "victim"}
        assert {"card", "phone"} <= mine, shot.name
        if expected[shot.lang]:
            assert expected[shot.lang] in mine, shot.name
        else:
            assert not mine & {"resident_id", "curp"}, shot.name
    assert id_screenshot(3, lang="es").data == id_shots[LANGS.index("es")].data


def test_dejavu_is_never_used_for_chinese():
    with pytest.raises(ValueError):
        chat_screenshot(0, lang="zh-Hans", style="sms", font="dejavu")
