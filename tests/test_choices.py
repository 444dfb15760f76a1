"""Options typed back on channels without buttons (bot/choices.py): by their mark, in the
channel's style, or by their label as shown."""

from __future__ import annotations

import pytest

from bot.choices import TypedChoices, letter, read_choice

OPTIONS = [("yes", "Sí, <b>ya</b>"), ("no", "No"), ("later", "Más tarde")] + [
    (f"o{n}", f"Otra {n}") for n in range(3, 30)
]


def _plain(label: str) -> str:
    return label.replace("<b>", "").replace("</b>", "")


@pytest.mark.parametrize(
    ("typed", "chosen"),
    [("a", "yes"), ("B", "no"), (" c) ", "later"), ("c.", "later"), ("ab", "o27"),
     ("Ｂ", "no"), ("sí, ya", "yes"), ("MÁS TARDE", "later")],
)  # fmt: skip
def test_letters_and_labels(typed: str, chosen: str) -> None:
    assert read_choice(typed, OPTIONS, "letters", _plain) == chosen


@pytest.mark.parametrize(
    ("typed", "chosen"),
    [("1", "yes"), ("2.", "no"), ("３", "later"), ("３、", "later"), ("（2）", "no"),
     ("30", "o29"), ("31", None), ("0", None), ("No", "no")],
)  # fmt: skip
def test_numbers_and_labels(typed: str, chosen: str | None) -> None:
    assert read_choice(typed, OPTIONS, "numbers", _plain) == chosen


@pytest.mark.parametrize("typed", ["3", "5512345678", "a b", "", "sí", "zz"])
def test_a_number_or_other_text_is_no_lettered_choice(typed: str) -> None:
    """A typed number (how many contacts, a phone number) is never taken for a letter."""
    assert read_choice(typed, OPTIONS, "letters", _plain) is None


def test_the_marks_as_shown() -> None:
    assert [letter(n) for n in (0, 25, 26, 27, 51, 52)] == ["a", "z", "aa", "ab", "az", "ba"]
    letters = TypedChoices(None, "whatsapp", "letters", str)  # type: ignore[arg-type]
    numbers = TypedChoices(None, "wechat", "numbers", str)  # type: ignore[arg-type]
    assert letters.lines(["Sí", "No"]) == ["a) Sí", "b) No"]
    assert numbers.lines(["是", "否"]) == ["1. 是", "2. 否"]
