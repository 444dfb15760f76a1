"""Sensitive numbers: a labelled test set of running text, and masking.

``tests/data/sensitive_numbers.toml`` holds texts in Chinese, Spanish and English with the
exact findings each must give (kind and value). Its valid numbers were made with
python-stdnum's own check-digit functions and written into the file, so they can be read.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest

from bot.content import Content
from dialogs.case import Finding
from dialogs.numbers import (
    KINDS,
    POSSIBLE_ID,
    find_sensitive,
    mask,
    mask_text,
    phone_numbers,
)

DATA = Path(__file__).parent / "data" / "sensitive_numbers.toml"
SET = tomllib.loads(DATA.read_text(encoding="utf-8"))
CASES = SET["case"]


def _id(case: dict) -> str:
    return f"{case['lang']}-{case['region'] or 'none'}-{case['text'][:40]}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_exactly_the_sensitive_numbers_are_found(case):
    found = [(f.kind, f.value) for f in find_sensitive(case["text"], case["region"])]
    expected = [(f["kind"], f["value"]) for f in case["findings"]]
    assert found == expected


def test_the_set_covers_every_kind_in_every_language():
    assert len(CASES) >= 200
    langs = {c["lang"] for c in CASES}
    assert langs == {"zh", "es", "en"}
    covered = Counter((f["kind"], c["lang"]) for c in CASES for f in c["findings"])
    for kind in KINDS:
        assert sum(covered[kind, lang] for lang in langs) >= 3, kind
    assert sum(1 for c in CASES if not c["findings"]) >= 60


def test_every_kind_has_a_label_in_every_language():
    texts = Content.load().texts
    for lang in ("en", "es", "zh-Hans"):
        for kind in KINDS:
            assert texts[lang].get(f"finding.{kind}"), (lang, kind)


def test_invalid_numbers_in_the_set_are_never_found_as_themselves():
    invalid = [v for v, how in SET["numbers"].items() if how.startswith("INVALID")]
    assert len(invalid) >= 20
    for case in CASES:
        for finding in case["findings"]:
            if finding["value"] in invalid:
                assert finding["kind"] in ("bank_account", "mx_rfc", POSSIBLE_ID), finding


def test_an_id_or_card_with_a_wrong_check_digit_is_still_found_as_a_possible_id():
    invalid = [v for v, how in SET["numbers"].items() if how.startswith("INVALID")]
    possible = {f["value"] for c in CASES for f in c["findings"] if f["kind"] == POSSIBLE_ID}
    kinds = {"cn.ric", "mx.curp", "es.dni", "es.nie", "card", "CLABE", "IBAN"}
    for kind in kinds:
        assert any(v in possible for v in invalid if kind in SET["numbers"][v]), kind
    assert [(f.kind, f.value) for f in find_sensitive("ID 11010519960715239X", "CN")] == [
        (POSSIBLE_ID, "11010519960715239X")
    ]
    assert find_sensitive("ID 11010519960715239X", "CN")[0].show is False


def test_a_possible_id_never_displaces_a_valid_number():
    text = "card 4111 1111 1111 1111 1234 and phone 13912345678"
    assert [f.kind for f in find_sensitive(text, "CN")] == ["bank_account", "phone"]
    assert [f.kind for f in find_sensitive("4111 1111 1111 1111 123", "")] == ["bank_card"]


def test_each_value_is_reported_once_in_order_of_appearance():
    text = "13800001111 then 11010519491231002X then 13800001111 again"
    found = find_sensitive(text, "CN")
    assert [(f.kind, f.value) for f in found] == [
        ("phone", "13800001111"),
        ("resident_id", "11010519491231002X"),
    ]
    assert all(f.show is False for f in found)


def test_phone_numbers_are_given_in_international_format():
    text = "催收 13912345678，另一个 +52 55 1234 5678"
    assert list(phone_numbers(text, "CN")) == ["+86 139 1234 5678", "+52 55 1234 5678"]
    assert list(phone_numbers("13912345678", "")) == []


# -- Masking ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("11010519491231002X", "**************002X"),
        ("6222 0212 3456 7890 128", "***************0128"),
        ("+86 139 1234 5678", "*********5678"),
        ("1.020.304.050", "******4050"),
        ("ES91 2100 0418 4502 0005 1332", "********************1332"),
        ("X-2482300-W", "*****300W"),
        ("123", "123"),
        ("li.wei@163.com", "l***@163.com"),
    ],
)
def test_mask_keeps_the_last_four_letters_or_digits(value, masked):
    assert mask(value) == masked


def test_mask_text_masks_hidden_findings_only_and_alters_no_original():
    text = "ID 11010519491231002X, phone 13800001111, mail li.wei@163.com"
    findings = find_sensitive(text, "CN")
    findings[1] = findings[1].model_copy(update={"show": True})
    before = [f.model_copy() for f in findings]
    masked = mask_text(text, findings)
    assert masked == "ID **************002X, phone 13800001111, mail l***@163.com"
    assert text == "ID 11010519491231002X, phone 13800001111, mail li.wei@163.com"
    assert findings == before


def test_mask_text_masks_a_value_each_time_it_occurs():
    text = "card 4111111111111111; again: 4111111111111111."
    masked = mask_text(text, [Finding(kind="bank_card", value="4111111111111111")])
    assert masked == "card ************1111; again: ************1111."


def test_mask_text_replaces_the_longest_value_first():
    long = Finding(kind="bank_account", value="6217000012345678901")
    short = Finding(kind="phone", value="12345678")
    masked = mask_text("account 6217000012345678901, phone 12345678", [short, long])
    assert masked == "account ***************8901, phone ****5678"


def test_mask_text_without_findings_is_the_text():
    assert mask_text("nothing here 2026-11-02", []) == "nothing here 2026-11-02"
