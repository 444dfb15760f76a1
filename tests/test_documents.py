"""Documents say only what the user said: a property test over 1,000 random cases.

Every document type is rendered for every random case, and every (jurisdiction, language)
pair gets its share of the cases. Checked for each document:
- traced: every fact clause (marked with the field it rests on) rests on an answer the
  user actually gave (``supported`` below, computed from the case, not from the renderer);
- untraced: no phrase that asserts a fact (``tests/data/claims.toml``) appears unless the
  case supports that fact; no caveat or hedge phrase appears, nor any basis's own note;
- at most four legal bases, each allowed for that document's readers and facts;
- the documents come in the order of the destinations.
"""

from __future__ import annotations

import random
import re
import tomllib
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.content import Content
from bot.documents import DOCUMENTS, cited_bases
from bot.render import Renderer
from dialogs.bases import DOCUMENT_DOMAINS, MAX_BASES, stated_facts
from dialogs.case import Case, EvidenceItem
from dialogs.events import EvidenceKind, ForwardOrigin
from dialogs.router import route
from dialogs.steps.details import BEHAVIOURS
from dialogs.steps.report import case_documents
from tests.conftest import REPO

CONTENT = Content.load()
RENDERER = Renderer(CONTENT)
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
CASES = 1000
CLAIMS = tomllib.loads((REPO / "tests" / "data" / "claims.toml").read_text(encoding="utf-8"))
MARK = re.compile(r"⟦([a-z_.]+)⟧")


def random_case(rng: random.Random, jurisdiction: str) -> Case:
    """A case as a user could leave it: any answer given or skipped, in any combination."""

    def maybe(value):
        return value if rng.random() < 0.5 else None

    def day(back: int) -> date:
        return (NOW - timedelta(days=rng.randint(0, back))).date()

    case = Case(number=1, jurisdiction=jurisdiction, created_at=NOW, updated_at=NOW)
    index = CONTENT.index
    case.speaker = rng.choice([None, "borrower", "borrower", "contact"])
    case.region = rng.choice([None, *index.regions.get(jurisdiction, ())])
    platform = case.platform
    platform.name = maybe(rng.choice(["QuickCash", "闪电借", "PrestaYa"]))
    platform.operator = maybe("Operadora Ejemplo S.A.")
    platform.licensed = rng.choice([None, "licensed", "unlicensed", "unknown"])
    platform.lender_type = rng.choice([None, "unknown", *index.lender_types.get(jurisdiction, ())])
    platform.complained = rng.choice([None, True, False])
    if platform.complained:
        platform.complained_when = maybe("hace dos semanas")
        platform.complained_on = maybe(day(60))
        platform.channel = maybe(rng.choice(["in_app", "phone", "email", "other"]))
        platform.reference = maybe("REF-778")
        platform.outcome = maybe(rng.choice(["no_answer", "refused", "promised", "resolved"]))
    loan = case.loan
    loan.account = maybe("user-55821")
    loan.contract = maybe("QC-2026-118")
    loan.amount = maybe("3000")
    loan.borrowed_on = maybe(day(120))
    loan.due_on = maybe(day(60))
    loan.repaid = maybe("1500")
    loan.demanded = maybe("9000")
    details = case.details
    details.since = maybe("since October")
    details.since_on = maybe(day(90))
    details.contacts_reached = rng.choice([None, "none", "few", "some", "many", "unknown", "37"])
    details.behaviours = rng.sample(BEHAVIOURS, rng.randint(0, 5))
    details.reach = rng.sample(["calls", "sms", "messaging", "posts", "visits"], rng.randint(0, 3))
    details.disclosed = rng.choice([None, True, False])
    details.posted = rng.choice([None, True, False])
    details.danger = rng.random() < 0.2
    details.story = maybe("They call my mother every day.")
    details.collectors = rng.sample(["+52 55 1111 2222", "Licenciado Pérez"], rng.randint(0, 2))
    if case.speaker == "contact":
        case.contact.sender = maybe("+86 138 0013 8000")
        case.contact.received_on = maybe(day(30))
        case.contact.borrower = maybe("Ana")
    case.privacy.name_mode = rng.choice([None, "full", "initials", "none"])
    case.privacy.name = maybe("Ana Torres")
    case.privacy.contact = maybe("ana@example.org")
    for number in range(1, rng.randint(0, 8) + 1):
        forwarded = rng.random() < 0.6
        kind = rng.choice([EvidenceKind.TEXT, EvidenceKind.SCREENSHOT, EvidenceKind.VOICE])
        case.evidence.append(
            EvidenceItem(
                number=number,
                kind=kind,
                received_at=NOW,
                sha256=f"{number:064x}",
                text="Paga hoy o publicamos tu foto" if kind == EvidenceKind.TEXT else None,
                forward=(
                    ForwardOrigin(kind="hidden_user", name="Cobranza", date=maybe(NOW))
                    if forwarded
                    else None
                ),
            )
        )
    return case


def supported(field: str, case: Case) -> bool:
    """Whether the user's answers (or the evidence) establish the fact a clause rests on."""
    p, loan, d, c = case.platform, case.loan, case.details, case.contact
    name = case.privacy.name if case.privacy.name_mode in ("full", "initials") else None
    checks = {
        "victim.name": bool(name),
        "victim.contact": bool(case.privacy.contact),
        "speaker.borrower": case.speaker == "borrower",
        "speaker.contact": case.speaker == "contact",
        "platform.name": bool(p.name),
        "platform.operator": bool(p.operator),
        "platform.lender_type": p.lender_type not in (None, "unknown"),
        "platform.licensed": p.licensed == "licensed",
        "platform.unlicensed": p.licensed == "unlicensed",
        "platform.complained": p.complained is True,
        "platform.complained_on": p.complained is True
        and bool(p.complained_on or p.complained_when),
        "platform.channel": p.complained is True and bool(p.channel),
        "platform.reference": bool(p.reference),
        "platform.outcome": bool(p.outcome),
        "loan.account": bool(loan.account),
        "loan.contract": bool(loan.contract),
        "loan.amount": bool(loan.amount),
        "loan.borrowed_on": bool(loan.borrowed_on),
        "loan.due_on": bool(loan.due_on),
        "loan.repaid": bool(loan.repaid),
        "loan.demanded": bool(loan.demanded),
        "details.since": bool(d.since or d.since_on),
        "details.contacts_reached": d.contacts_reached not in (None, "none", "unknown"),
        "details.disclosed": d.disclosed is True,
        "details.reach": bool(d.reach),
        "details.posted": d.posted is True,
        "details.behaviours": bool(d.behaviours),
        "details.story": bool(d.story),
        "details.story_voice": bool(d.story_voice),
        "details.collectors": bool(d.collectors),
        "details.contacts_involved": d.contacts_reached not in (None, "none", "unknown")
        or bool({"contacts_messaged", "employer_contacted"} & set(d.behaviours))
        or d.disclosed is True
        or case.speaker == "contact",
        "contact.sender": bool(c.sender),
        "contact.received_on": bool(c.received_on),
        "contact.borrower": bool(c.borrower),
        "evidence.forwarded": any(i.forward for i in case.evidence),
        "registry.channels": bool(d.reach)
        or "night_calls" in d.behaviours
        or any(i.kind in (EvidenceKind.VOICE, EvidenceKind.AUDIO) for i in case.evidence),
    }
    assert field in checks, f"a clause rests on {field!r}, which this test does not know"
    return checks[field]


def claim_supported(claim: str, case: Case) -> bool:
    d = case.details
    return {
        "disclosed": d.disclosed is True,
        "contacts_reached": d.contacts_reached not in (None, "none", "unknown")
        or bool({"contacts_messaged", "employer_contacted"} & set(d.behaviours))
        or d.disclosed is True
        or case.speaker == "contact",
        "borrower": case.speaker == "borrower",
        "complained": case.platform.complained is True,
        "posted": d.posted is True or "data_published" in d.behaviours,
        "threats": bool({"violence_threats", "extortion"} & set(d.behaviours)),
    }[claim]


def _cases():
    rng = random.Random(20261129)
    jurisdictions = list(CONTENT.jurisdictions)
    languages = list(CONTENT.index.languages)
    for number in range(CASES):
        jurisdiction = jurisdictions[number % len(jurisdictions)]
        lang = languages[(number // len(jurisdictions)) % len(languages)]
        yield random_case(rng, jurisdiction), lang


CAVEATS = [phrase.casefold() for phrases in CLAIMS["caveats"].values() for phrase in phrases]


def test_every_document_of_every_random_case_says_only_what_the_user_said():
    failures: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for case, lang in _cases():
        jurisdiction = CONTENT.jurisdictions[case.jurisdiction or "generic"]
        notes = [b.note.get(lang).casefold() for b in jurisdiction.legal_bases if b.note]
        for template in DOCUMENTS:
            seen.add((case.jurisdiction or "", lang, template))
            reader = "es" if lang != "es" else "en"  # the user may write in another language
            traced = RENDERER.render(template, case, lang, NOW, trace=True, user_lang=reader)
            for field in MARK.findall(traced):
                if not supported(field, case):
                    failures.append(f"{template}/{lang}/{case.jurisdiction}: {field} unsupported")
            text = RENDERER.render(template, case, lang, NOW, user_lang=reader).casefold()
            bases = cited_bases(jurisdiction, case, template)
            for basis in bases:  # a rule's summary describes the rule, not this case
                text = text.replace(basis.summary.get(lang).casefold(), "")
            for claim, phrases in CLAIMS[lang].items():
                if claim_supported(claim, case):
                    continue
                for phrase in phrases:
                    if phrase.casefold() in text:
                        failures.append(f"{template}/{lang}: claims {claim!r}: {phrase!r}")
            for phrase in [*CAVEATS, *notes]:
                if phrase in text:
                    failures.append(f"{template}/{lang}: caveat {phrase[:40]!r}")
            if len(bases) > MAX_BASES:
                failures.append(f"{template}: {len(bases)} bases")
            for basis in bases:
                ok = (
                    basis.current
                    and basis.in_documents
                    and set(basis.domains) & set(DOCUMENT_DOMAINS[template])
                    and set(basis.requires) <= stated_facts(case)
                    and (basis.region is None or basis.region == case.region)
                )
                if not ok:
                    failures.append(f"{template}: basis {basis.id} not allowed")
        assert not failures, failures[:20]
    expected = {
        (j, lang, t)
        for j in CONTENT.jurisdictions
        for lang in CONTENT.index.languages
        for t in DOCUMENTS
    }
    assert seen == expected


def test_documents_come_in_the_order_of_the_destinations():
    for case, _lang in _cases():
        if case.speaker == "contact":
            continue
        bodies = CONTENT.index.bodies.get(case.jurisdiction or "", ())
        order = [d.template for d in route(case, bodies, NOW.date()) if d.template]
        assert case_documents(case, CONTENT.index, NOW.date()) == list(dict.fromkeys(order))


@pytest.mark.parametrize("lang", ["en", "es", "zh-Hans"])
def test_the_claims_list_catches_an_unconditional_claim(lang):
    """The check above is not vacuous: a sentence asserting disclosure is caught."""
    case = random_case(random.Random(1), "generic")
    case.details.disclosed = None
    case.details.contacts_reached = "none"
    case.details.behaviours = []
    case.speaker = "borrower"
    sentence = CLAIMS[lang]["disclosed"][0]
    text = (RENDERER.render("regulator_complaint", case, lang, NOW) + sentence).casefold()
    assert not claim_supported("disclosed", case)
    assert any(p.casefold() in text for p in CLAIMS[lang]["disclosed"])
