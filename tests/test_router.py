"""The escalation router: fact patterns -> the exact destinations, in order, and the bases.

Each pattern is a case a victim could describe (jurisdiction, whether the lender is licensed,
what the collectors did, how many contacts were reached). The expected lists were reviewed
against the rules in dialogs/router.py and the fact sheet: police first when there are
threats, the regulators only where they can act, the registry first when the licence is
unknown, the platform first otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.content import Content
from bot.render import Renderer, cited_bases
from dialogs.case import Case, Details, PlatformInfo
from dialogs.router import case_tags, route

CONTENT = Content.load()
NOW = datetime(2026, 11, 28, tzinfo=UTC)

PATTERNS = [
    (
        "cn",
        "licensed",
        (),
        "none",
        [
            ("platform", "platform_first"),
            ("nfra", "licensed"),
            ("nifa", "licensed"),
            ("local_financial_bureau", "licensed"),
            ("pboc", "licensed"),
            ("samr_12315", "licensed"),
        ],
        ["pipl_60", "gbt_45251_2025", "nifa_collection_guideline"],
    ),
    (
        "cn",
        "licensed",
        ("contacts_messaged",),
        "many",
        [
            ("platform", "platform_first"),
            ("nfra", "licensed"),
            ("nifa", "licensed"),
            ("local_financial_bureau", "licensed"),
            ("pboc", "licensed"),
            ("samr_12315", "licensed"),
            ("report_12321", "calls_sms"),
            ("cac_12377", "data_misuse"),
            ("carriers", "calls_sms"),
            ("police", "calls_sms"),
            ("mps_cyber", "data_misuse"),
            ("courts", "data_misuse"),
        ],
        [
            "crim_293_1",
            "crim_293",
            "crim_253_1",
            "psapl_42_2012",
            "pipl_5",
            "pipl_6",
            "pipl_10",
            "pipl_13",
            "pipl_13_contacts",
            "pipl_14",
            "pipl_23",
            "pipl_44_47",
            "pipl_65",
            "pipl_66",
            "pipl_69",
            "civil_1032",
            "civil_1033_1",
            "civil_1034",
            "civil_1035",
            "civil_1038",
            "nifa_letter_2017",
            "cba_collection_guideline",
        ],
    ),
    (
        "cn",
        "unlicensed",
        ("contacts_messaged", "violence_threats"),
        "many",
        [
            ("police", "threats"),
            ("mps_cyber", "unlicensed"),
            ("platform", "platform_unlicensed"),
            ("nifa", "unlicensed"),
            ("report_12321", "calls_sms"),
            ("cac_12377", "data_misuse"),
            ("carriers", "calls_sms"),
            ("courts", "data_misuse"),
        ],
        [
            "crim_293_1",
            "crim_293",
            "crim_253_1",
            "psapl_42_2012",
            "pipl_5",
            "pipl_6",
            "pipl_10",
            "pipl_13",
            "pipl_13_contacts",
            "pipl_14",
            "pipl_23",
            "pipl_44_47",
            "pipl_65",
            "pipl_66",
            "pipl_69",
            "civil_1032",
            "civil_1033_1",
            "civil_1034",
            "civil_1035",
            "civil_1038",
            "nifa_letter_2017",
            "cba_collection_guideline",
        ],
    ),
    (
        "cn",
        "unknown",
        ("data_published",),
        "few",
        [
            ("platform", "platform_first"),
            ("nfra", "if_licensed"),
            ("nifa", "if_unlicensed"),
            ("local_financial_bureau", "if_licensed"),
            ("pboc", "if_licensed"),
            ("samr_12315", "if_licensed"),
            ("report_12321", "data_misuse"),
            ("cac_12377", "defamation_online"),
            ("police", "if_unlicensed"),
            ("mps_cyber", "if_unlicensed"),
            ("courts", "defamation_online"),
        ],
        [
            "crim_253_1",
            "psapl_42_2012",
            "pipl_10",
            "pipl_23",
            "pipl_28_29",
            "pipl_44_47",
            "pipl_65",
            "pipl_66",
            "pipl_69",
            "civil_1032",
            "civil_1034",
            "civil_1038",
            "cba_collection_guideline",
        ],
    ),
    (
        "cn",
        "licensed",
        ("credit_report",),
        "none",
        [
            ("platform", "platform_first"),
            ("nfra", "licensed"),
            ("nifa", "licensed"),
            ("local_financial_bureau", "licensed"),
            ("pboc", "licensed"),
            ("samr_12315", "licensed"),
            ("crc", "credit_report"),
        ],
        ["pipl_60", "gbt_45251_2025", "nifa_collection_guideline"],
    ),
    (
        "mx",
        "licensed",
        ("contacts_messaged", "fake_legal"),
        "many",
        [
            ("national_lines", "threats"),
            ("ssc_cdmx_cyber", "threats"),
            ("state_cyber", "threats"),
            ("fiscalias", "threats"),
            ("platform", "platform_first"),
            ("condusef", "licensed"),
            ("redeco", "licensed"),
            ("sipres", "always"),
            ("buro_entidades", "licensed"),
            ("sabg", "data_misuse"),
            ("ficosec", "threats"),
        ],
        [
            "cpf_284_bis",
            "cpdf_209_bis",
            "condusef_collection_rules",
            "lfpdppp_2025",
            "ifai_condusef_guide_2015",
        ],
    ),
    (
        "mx",
        "unlicensed",
        ("contacts_messaged",),
        "many",
        [
            ("platform", "platform_unlicensed"),
            ("ssc_cdmx_cyber", "unlicensed"),
            ("state_cyber", "unlicensed"),
            ("fiscalias", "unlicensed"),
            ("redeco", "contacts_harassed"),
            ("sipres", "always"),
            ("sabg", "unlicensed"),
        ],
        ["cpdf_209_bis", "condusef_collection_rules", "lfpdppp_2025", "ifai_condusef_guide_2015"],
    ),
    (
        "co",
        "licensed",
        ("contacts_messaged",),
        "some",
        [
            ("platform", "platform_first"),
            ("sfc", "licensed"),
            ("sic", "data_misuse"),
            ("policia", "data_misuse"),
        ],
        ["ley2300_references", "ley1581_2012", "sic_circular_002_2023"],
    ),
    (
        "co",
        "unlicensed",
        ("extortion",),
        "many",
        [
            ("policia", "threats"),
            ("gaula", "extortion"),
            ("fiscalia", "threats"),
            ("platform", "platform_unlicensed"),
            ("sic", "unlicensed"),
        ],
        ["ley1266_2008", "ley1328_2009", "ley1273_2009"],
    ),
    (
        "pe",
        "unlicensed",
        ("contacts_messaged", "insults"),
        "many",
        [
            ("platform", "platform_unlicensed"),
            ("pnp", "unlicensed"),
            ("ministerio_publico", "unlicensed"),
            ("sbs", "unlicensed"),
            ("indecopi", "calls_sms"),
            ("anpd", "unlicensed"),
        ],
        ["ley29571_61", "ley29733"],
    ),
    (
        "es",
        "licensed",
        ("employer_contacted",),
        "few",
        [
            ("platform", "platform_first"),
            ("bde", "licensed"),
            ("aepd", "data_misuse"),
            ("policia_nacional", "contacts_harassed"),
            ("guardia_civil", "contacts_harassed"),
        ],
        ["gdpr_lopdgdd", "aepd_yo_cobro"],
    ),
    (
        "es",
        "unlicensed",
        ("violence_threats",),
        "none",
        [
            ("policia_nacional", "threats"),
            ("guardia_civil", "threats"),
            ("platform", "platform_unlicensed"),
            ("aepd", "unlicensed"),
        ],
        ["cp_172_3", "cp_172_ter"],
    ),
    (
        "generic",
        "unknown",
        ("contacts_messaged",),
        "many",
        [
            ("platform", "platform_first"),
            ("financial_regulator", "if_licensed"),
            ("data_protection", "if_unlicensed"),
            ("app_store", "if_unlicensed"),
            ("police", "if_unlicensed"),
        ],
        [],
    ),
    (
        "generic",
        "unlicensed",
        (),
        "none",
        [
            ("platform", "platform_unlicensed"),
            ("police", "unlicensed"),
            ("data_protection", "unlicensed"),
            ("app_store", "unlicensed"),
        ],
        [],
    ),
]


def make_case(jurisdiction, licensed, behaviours, contacts, **platform) -> Case:
    return Case(
        number=1,
        jurisdiction=jurisdiction,
        created_at=NOW,
        updated_at=NOW,
        platform=PlatformInfo(name="QuickCash", licensed=licensed, **platform),
        details=Details(behaviours=list(behaviours), contacts_reached=contacts),
    )


@pytest.mark.parametrize(
    ("jurisdiction", "licensed", "behaviours", "contacts", "expected", "bases"), PATTERNS
)
def test_fact_pattern(jurisdiction, licensed, behaviours, contacts, expected, bases):
    case = make_case(jurisdiction, licensed, behaviours, contacts)
    destinations = route(case, CONTENT.index.bodies[jurisdiction])
    assert [(d.body, d.reason) for d in destinations] == expected
    assert [b.id for b in cited_bases(CONTENT.jurisdictions[jurisdiction], case)] == bases
    for lang in ("es", "zh-Hans", "en"):
        for template in {d.template for d in destinations} | {"contacts"}:
            text = Renderer(CONTENT).render(template, case, lang, NOW)
            assert "UNVERIFIED" not in text


def test_there_are_at_least_twelve_distinct_patterns():
    keys = {(p[0], p[1], p[2], p[3]) for p in PATTERNS}
    assert len(keys) >= 12
    assert {p[0] for p in PATTERNS} >= {"cn", "mx", "co", "pe", "es", "generic"}


def test_threats_put_the_police_first_everywhere():
    for jurisdiction in CONTENT.jurisdictions:
        case = make_case(jurisdiction, "licensed", ["violence_threats"], "many")
        first = route(case, CONTENT.index.bodies[jurisdiction])[0]
        roles = {b.id: b.role for b in CONTENT.index.bodies[jurisdiction]}
        if any(r in ("police", "police_online", "prosecutor") for r in roles.values()):
            assert roles[first.body] in ("police", "police_online", "prosecutor"), jurisdiction


def test_an_unlicensed_lender_never_goes_to_a_licensed_only_regulator():
    for jurisdiction in CONTENT.jurisdictions:
        case = make_case(jurisdiction, "unlicensed", ["contacts_messaged"], "many")
        for destination in route(case, CONTENT.index.bodies[jurisdiction]):
            body = next(
                (b for b in CONTENT.index.bodies[jurisdiction] if b.id == destination.body), None
            )
            if body is not None:
                assert body.scope != ("licensed",), (jurisdiction, body.id)


def test_an_unanswered_platform_is_said_so():
    case = make_case("cn", "licensed", [], "none", complained=True, outcome="no_answer")
    assert "platform_unresolved" in case_tags(case)
    assert route(case, CONTENT.index.bodies["cn"])[0].reason == "platform_unresolved"


def test_danger_now_puts_emergency_police_first():
    case = make_case("es", "licensed", [], "none")
    case.details.danger = True
    first = route(case, CONTENT.index.bodies["es"])[0]
    assert (first.body, first.reason) == ("policia_nacional", "emergency")


def test_deadlines_come_from_the_content():
    case = make_case("cn", "licensed", [], "none")
    nfra = next(d for d in route(case, CONTENT.index.bodies["cn"]) if d.body == "nfra")
    assert (nfra.deadline_days, nfra.deadline_kind, nfra.deadline_of) == (15, "working", "body")
    text = Renderer(CONTENT).render("contacts", case, "en", NOW)
    assert "Expected answer within 15 working days." in text


REQUIRED = {
    # destination template: what that destination needs to find in it (English wording)
    "platform_complaint": ["QuickCash", "FACTS", "EVIDENCE", "WHAT I ASK", "LEGAL BASIS"],
    "regulator_complaint": [
        "Complainant:", "liwei@example.com", "Lender / platform: QuickCash", "FACTS",
        "EVIDENCE INDEX", "LEGAL BASIS", "REQUESTS", "complaint number",
    ],
    "police_statement": [
        "FACTS IN TIME ORDER", "WHO THEY ARE", "+86 139 1234 5678", "EVIDENCE INDEX",
    ],
    "data_protection_complaint": ["Against: QuickCash", "WHAT DATA WAS USED", "REQUESTS"],
    "collection_registry_complaint": ["WHO COLLECTED", "CHANNEL USED", "REASON"],
    "report_center_complaint": ["NUMBERS AND ACCOUNTS TO REPORT", "+86 139 1234 5678"],
    "contact_complaint": ["QuickCash", "+86 139 1234 5678", "[your name]"],
}  # fmt: skip


@pytest.mark.parametrize("template", sorted(REQUIRED))
def test_each_destination_template_has_the_fields_its_destination_requires(template):
    case = make_case("mx", "licensed", ["contacts_messaged", "violence_threats"], "many")
    case.details.collectors = ["+86 139 1234 5678"]
    case.details.story = "They messaged my whole address book."
    case.privacy.name_mode, case.privacy.name = "full", "Li Wei"
    case.privacy.contact = "liwei@example.com"
    text = Renderer(CONTENT).render(template, case, "en", NOW)
    for field in REQUIRED[template]:
        assert field in text, (template, field)
    assert "Li Wei" in text or template == "contact_complaint"
