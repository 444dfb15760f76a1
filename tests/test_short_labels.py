"""Short button labels: every ``option.*`` label has an ``option_short.*`` counterpart that fits
a WhatsApp reply button (at most 20 characters; a list row allows 24) once its parameters are
filled with worst-case values. The short labels live in ``content/texts/<lang>.short.toml``."""

from __future__ import annotations

import pytest

from bot.content import Content, placeholders
from dialogs.replies import Param, Ref

CONTENT = Content.load()
LANGS = ("es", "zh-Hans", "en")
LIMIT = 20
"""WhatsApp's limit for a reply button's title, in characters (Python ``len``: code points)."""

FULL = "option."
SHORT = "option_short."

MARKS = ("✅ ", "▶ ", "👁 ", "🔒 ", "")
"""What fills ``{mark}``: dialogs/steps/platform.py and details.py ("✅ "), dialogs/commands.py
("▶ " for the active case), dialogs/steps/privacy.py ("👁 " shown, "🔒 " hidden)."""

WORST_CASE: dict[str, Param] = {
    "mark": max(MARKS, key=len),
    # /cases lists every case of the user by number (dialogs/commands.py): three digits.
    "case": 999,
    # The step of a case is a dialogs.case.Step, 0 to 5: one digit.
    "step": 5,
    # The number of evidence items in a case has no limit: four digits.
    "evidence": 9999,
    # dialogs/content.py ContentIndex.reminder_days (15): two digits.
    "days": 99,
    # A phone number found in the evidence, in international format (dialogs/numbers.py
    # phone_numbers): the longest of the phonenumbers library's example numbers of any region.
    "number": "+91 1861 123 456 789",
    # A private number found in what the user wrote, masked by dialogs/numbers.py mask() to its
    # letters and digits with all but the last 4 hidden: a Spanish IBAN (24). Shown in full or
    # as an e-mail address it can be longer still.
    "shown": "*" * 20 + "1332",
    # A name read in a screenshot that looks like an app's (dialogs/found.py app_names keeps
    # those of at most MAX_APP_CHARS).
    "app": "x" * 20,
}
"""Worst-case values for the parameters of option labels; ``kind`` and ``name`` are content
references, filled per language by :func:`worst_case`."""

REFS = {
    "kind": "finding.",  # dialogs/steps/privacy.py: Ref(key=f"finding.{kind}")
    "name": "body.",  # dialogs/followup.py body_name: "body.platform" or "body.<jid>.<id>"
}
"""Parameters filled with another content text: the worst case is the longest text under the
prefix in the language."""

TOO_LONG = {
    "prv.finding": "the private number itself (an IBAN, a card number, an e-mail) can be "
    "longer than a button; the label is already nothing but the mark and the number",
    "sent.destination": "a body's name (body.*) is often far longer than a button, and "
    "there is no shorter name of a body in the content to use",
}
"""Short labels whose parameters alone may overflow: known, reported, and expected to fail
(strictly, so that the day they fit, this list must be updated)."""


def options(lang: str, prefix: str) -> dict[str, str]:
    """The labels under ``prefix`` in a language, by their path after the prefix."""
    return {
        key.removeprefix(prefix): text
        for key, text in CONTENT.texts[lang].items()
        if key.startswith(prefix)
    }


def worst_case(lang: str) -> dict[str, Param]:
    """Every parameter's worst-case value in ``lang``."""
    texts = CONTENT.texts[lang]
    values = dict(WORST_CASE)
    for name, prefix in REFS.items():
        longest = max((k for k in texts if k.startswith(prefix)), key=lambda k: len(texts[k]))
        values[name] = Ref(key=longest)
    return values


def length_cases() -> list:
    cases = []
    for lang in LANGS:
        for path in sorted(options(lang, FULL)):
            marks = ()
            if path in TOO_LONG:
                marks = (pytest.mark.xfail(reason=TOO_LONG[path], strict=True),)
            cases.append(pytest.param(lang, path, marks=marks, id=f"{lang}:{path}"))
    return cases


@pytest.mark.parametrize("lang", LANGS)
def test_every_option_has_a_short_label(lang):
    missing = sorted(set(options(lang, FULL)) - set(options(lang, SHORT)))
    assert not missing, [SHORT + path for path in missing]


@pytest.mark.parametrize("lang", LANGS)
def test_no_short_label_without_its_option(lang):
    orphans = sorted(set(options(lang, SHORT)) - set(options(lang, FULL)))
    assert not orphans, [SHORT + path for path in orphans]


@pytest.mark.parametrize("lang", LANGS)
def test_short_labels_use_only_the_parameters_of_the_full_label(lang):
    full = options(lang, FULL)
    for path, text in options(lang, SHORT).items():
        extra = placeholders(text) - placeholders(full.get(path, ""))
        assert not extra, (SHORT + path, extra)
        assert text.strip(), SHORT + path


@pytest.mark.parametrize("lang", LANGS)
def test_every_parameter_has_a_worst_case(lang):
    values = worst_case(lang)
    for path, text in options(lang, FULL).items():
        assert placeholders(text) <= set(values), (FULL + path, placeholders(text) - set(values))


@pytest.mark.parametrize(("lang", "path"), length_cases())
def test_short_label_fits_a_button(lang, path):
    key = SHORT + path
    params = worst_case(lang)
    shown = CONTENT.text(key, lang, {n: params[n] for n in placeholders(CONTENT.texts[lang][key])})
    assert len(shown) <= LIMIT, (key, shown, len(shown))
