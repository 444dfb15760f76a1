"""Amounts, dates and times as screenshots show them (dialogs/found.py)."""

from __future__ import annotations

import pytest

from dialogs.found import amounts, blank_moments, dates, moments, times


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [("¥1,500.00", "CN", ["1500.00 CNY"]), ("还款1500元", "CN", ["1500.00 CNY"]),
     ("￥8,000", "CN", ["8000.00 CNY"]), ("$2,300 MXN", "MX", ["2300.00 MXN"]),
     ("$ 1,250.50", "MX", ["1250.50 MXN"]), ("$ 1,250.50", "US", ["1250.50 USD"]),
     ("$ 1,250.50", "", ["1250.50 $"]), ("USD 300", "MX", ["300.00 USD"]),
     ("3000 pesos", "", ["3000.00 MXN"]), ("20 dollars", "", ["20.00 USD"]),
     ("Deposita $7,350.80.", "MX", ["7350.80 MXN"]), ("1.500,00 pesos", "", ["1500.00 MXN"]),
     ("逾期12天", "CN", []), ("el 2026", "MX", []), ("55 1234 5678", "MX", [])],
)  # fmt: skip
def test_amounts(text: str, region: str, expected: list[str]) -> None:
    assert amounts(text, region) == expected


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [("2026-11-03", "", "2026-11-03"), ("2026/11/03", "", "2026-11-03"),
     ("2026.11.03", "", "2026-11-03"), ("2026年11月3日", "CN", "2026-11-03"),
     ("3 de noviembre de 2026", "MX", "2026-11-03"), ("November 3, 2026", "", "2026-11-03"),
     ("Nov 3, 2026", "", "2026-11-03"), ("03/11/2026", "MX", "2026-11-03"),
     ("11/03/2026", "US", "2026-11-03"), ("25/12/2026", "US", "2026-12-25"),
     ("2026-02-1315:19", "CN", "2026-02-13")],
)  # fmt: skip
def test_dates(text: str, region: str, expected: str) -> None:
    assert [d for _, d in dates(text, region)] == [expected]


def test_no_date_in_numbers_that_are_none() -> None:
    assert dates("31/02/2026 2026-13-01 110101199003074514", "MX") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("22:41", ["22:41"]), ("10:41 PM", ["22:41"]), ("10:41 p. m.", ["22:41"]),
     ("8:34 a. m.", ["08:34"]), ("12:05 AM", ["00:05"]), ("下午3:05", ["15:05"]),
     ("2026-02-1315:19", ["15:19"]), ("10:41:22", []), ("25:00", [])],
)  # fmt: skip
def test_times(text: str, expected: list[str]) -> None:
    assert [t for _, t in times(text)] == expected


def test_moments_take_the_date_above() -> None:
    lines = [
        "王经理",
        "2025-12-19 20:04",
        "你的手机号",
        "08:46",
        "2025年12月21日",
        "还钱",
        "13:20",
    ]
    assert moments(lines) == ["2025-12-19T20:04", "2025-12-19T08:46", "2025-12-21",
                              "2025-12-21T13:20"]  # fmt: skip
    assert moments(["22:10", "hola"]) == ["22:10"]


def test_dates_and_times_are_blanked_for_the_phone_search() -> None:
    text = "2026-02-1315:19 打给 13912345678"
    blanked = blank_moments(text, "CN")
    assert len(blanked) == len(text) and "13912345678" in blanked and "2026" not in blanked


def test_app_names_are_candidates_from_signatures_desks_and_brands() -> None:
    from dialogs.found import app_names

    lines = ["快易贷客服", "【闪电借】您的借款已逾期", "Cobranza DineroFácil",
             "paga en la app PrestaYa, no por WhatsApp", "你好客服", "Your QuickLoan Pro loan",
             "快易贷客服 again", "你在金满仓的借款已经逾期",
             "不还钱，好借宝的律师函到了"]  # fmt: skip
    assert app_names(lines) == ["快易贷", "闪电借", "DineroFácil", "PrestaYa", "QuickLoan Pro",
                                "金满仓", "好借宝"]  # fmt: skip
    assert app_names(["还钱", "Paga hoy", "Pay today or else", "1500元"]) == []
