"""Complaint rendering: the facts, the evidence index, masking, and chat-sized pieces."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.content import Content
from bot.documents import cited_bases
from bot.render import Renderer, split_message
from tests.test_content import NOW, rich_case

CONTENT = Content.load()


def render(template: str, case, lang: str = "en") -> str:
    return Renderer(CONTENT).render(template, case, lang, NOW)


def test_the_platform_complaint_names_the_platform_facts_and_evidence():
    text = render("platform_complaint", rich_case("cn"))
    assert "QuickCash" in text and "QC Ltd" in text
    assert "They told my boss I am a thief." in text
    assert "a" * 64 in text and "b" * 64 in text
    assert "+86 139 1234 5678" in text
    assert "T-1" in text
    assert "L. W." in text  # initials, as the user chose


def test_each_document_cites_the_bases_its_readers_enforce():
    case = rich_case("cn")
    for template in ("regulator_complaint", "police_statement", "data_protection_complaint"):
        text = render(template, case, "zh-Hans")
        bases = cited_bases(CONTENT.jurisdictions["cn"], case, template)
        assert bases, template
        for basis in bases:
            assert basis.summary.get("zh-Hans") in text


def test_sensitive_numbers_are_masked_unless_shown():
    case = rich_case("cn")
    case.details.story = "My ID 11010519491231002X and my card 6222 0212 3456 7890 128."
    text = render("regulator_complaint", case)
    assert "11010519491231002X" not in text and "**************002X" in text
    assert "6222 0212 3456 7890 128" not in text
    case.privacy.findings = [f.model_copy(update={"show": True}) for f in _findings(case)]
    assert "11010519491231002X" in render("regulator_complaint", case)


def _findings(case):
    from dialogs.steps.privacy import findings_for

    return findings_for(case, "CN")


def test_user_text_is_data_not_a_template():
    case = rich_case("cn")
    case.platform.name = "{{ 7 * 7 }} {% if true %}x{% endif %}"
    text = render("platform_complaint", case)
    assert "{{ 7 * 7 }} {% if true %}x{% endif %}" in text
    assert "49" not in text


def test_split_message_keeps_every_character_under_the_limit():
    text = "\n".join(f"line {i} " + "字" * (i % 300) for i in range(400))
    chunks = split_message(text, limit=4000)
    assert all(len(c.encode("utf-16-le")) // 2 <= 4000 for c in chunks)
    assert "".join(c + "\n" for c in chunks).split() == text.split()


def test_split_message_cuts_a_single_huge_line():
    chunks = split_message("x" * 9000, limit=4000)
    assert [len(c) for c in chunks] == [4000, 4000, 1000]


def test_split_message_counts_emoji_as_two_units():
    chunks = split_message("😀" * 3000, limit=4000)
    assert [len(c) for c in chunks] == [2000, 1000]


def test_dates_are_utc():
    case = rich_case("cn")
    assert case.evidence[0].received_at.tzinfo is UTC
    assert "2026-11-28 12:00 UTC" in render("evidence_index", case)
    assert datetime(2026, 1, 1, tzinfo=UTC)
