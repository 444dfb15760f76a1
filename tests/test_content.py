"""Content completeness: every text in every language, every template for every case."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.content import Content, placeholders
from bot.render import Renderer
from dialogs import EvidenceKind, ForwardOrigin
from dialogs.case import Case, Details, EvidenceItem, PlatformInfo, Privacy, State
from tests.conftest import REPO

CONTENT = Content.load()
LANGS = ("es", "zh-Hans", "en")
TEMPLATES = sorted(
    p.name.removesuffix(".txt.j2")
    for p in (REPO / "content" / "templates" / "en").glob("*.txt.j2")
    if not p.name.startswith("_")
)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_the_three_languages_exist():
    assert set(CONTENT.texts) == set(LANGS)
    assert CONTENT.index.languages == LANGS


@pytest.mark.parametrize("lang", LANGS)
def test_every_key_exists_with_the_same_parameters(lang):
    reference = CONTENT.texts["en"]
    texts = CONTENT.texts[lang]
    assert set(texts) == set(reference)
    for key, text in reference.items():
        assert placeholders(texts[key]) == placeholders(text), key
        assert texts[key].strip(), key


@pytest.mark.parametrize("lang", LANGS)
def test_markup_is_limited_and_balanced(lang):
    for key, text in CONTENT.texts[lang].items():
        tags = re.findall(r"</?([a-z]+)>", text)
        assert set(tags) <= {"b", "i"}, key
        for tag in ("b", "i"):
            assert text.count(f"<{tag}>") == text.count(f"</{tag}>"), key


@pytest.mark.parametrize("lang", LANGS)
def test_every_template_exists_in_every_language(lang):
    for name in TEMPLATES:
        assert (REPO / "content" / "templates" / lang / f"{name}.txt.j2").is_file(), name


def rich_case(jurisdiction: str) -> Case:
    origin = ForwardOrigin(kind="user", name="催收 Wang", sender_id=5, date=NOW)
    return Case(
        number=3,
        state=State.REPORT,
        jurisdiction=jurisdiction,
        created_at=NOW,
        updated_at=NOW,
        evidence=[
            EvidenceItem(
                number=1,
                kind=EvidenceKind.SCREENSHOT,
                received_at=NOW,
                sha256="a" * 64,
                size=10,
                caption="sent to my mother",
                forward=origin,
            ),
            EvidenceItem(number=2, kind=EvidenceKind.VOICE, received_at=NOW, sha256="b" * 64),
            EvidenceItem(
                number=3,
                kind=EvidenceKind.VIDEO,
                received_at=NOW,
                sha256=None,
                size=30_000_000,
                too_large=True,
            ),
            EvidenceItem(
                number=4,
                kind=EvidenceKind.TEXT,
                received_at=NOW,
                sha256="c" * 64,
                text="pay or else",
                forward=origin,
            ),
        ],
        platform=PlatformInfo(
            name="QuickCash",
            operator="QC Ltd",
            complained=True,
            complained_when="2026-10-01",
            channel="in_app",
            reference="T-1",
            outcome="refused",
        ),
        details=Details(
            story="They told my boss I am a thief.",
            story_voice=2,
            since="2026-09",
            contacts_reached="many",
            behaviours=[
                "contacts_messaged",
                "violence_threats",
                "fake_legal",
                "employer_contacted",
            ],
            collectors=["+86 139 1234 5678"],
        ),
        privacy=Privacy(name_mode="initials", name="Li Wei", contact="liwei@example.com"),
    )


def empty_case(jurisdiction: str) -> Case:
    return Case(number=1, jurisdiction=jurisdiction, created_at=NOW, updated_at=NOW)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("jurisdiction", list(CONTENT.jurisdictions))
@pytest.mark.parametrize("make", [rich_case, empty_case])
def test_every_template_renders_for_every_jurisdiction(lang, jurisdiction, make):
    renderer = Renderer(CONTENT)
    for name in TEMPLATES:
        text = renderer.render(name, make(jurisdiction), lang, NOW)
        assert text.strip(), name
        assert "UNVERIFIED" not in text
        assert "{{" not in text and "{%" not in text


def test_china_contacts_name_both_bodies_of_the_source_procedure_with_sources():
    renderer = Renderer(CONTENT)
    text = renderer.render("contacts", rich_case("cn"), "en", NOW)
    assert "中国互联网金融协会" in text
    assert "中国人民银行征信中心" in text
    assert "12378" in text
    assert "checked 2026-11-28" in text
    assert "https://" in text
