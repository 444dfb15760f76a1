"""The real content through the router: snapshots of destinations and of each document's bases.

Each pattern is a case a victim could describe (jurisdiction, whether the lender is licensed,
what the collectors did, how many contacts were reached). The expected lists were reviewed
against the rules (tested on synthetic tables in tests/test_router_rules.py) and the fact
sheet: police first when there are threats, the regulators only where they can act, the
platform first otherwise; each document cites at most four bases its readers enforce. A fact
change in content/ changes these snapshots, not the rules' tests.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.content import Content
from bot.documents import cited_bases
from bot.render import Renderer
from dialogs.case import Case, Details, PlatformInfo
from dialogs.router import case_tags, route
from dialogs.steps.report import case_documents

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
            ("nifa", "role_industry_association"),
            ("local_financial_bureau", "licensed"),
        ],
        {
            "platform_complaint": ["gbt_45251_2025", "pipl_60"],
            "regulator_complaint": ["gbt_45251_2025"],
            "association_report": ["gbt_45251_2025"],
        },
    ),
    (
        "cn",
        "licensed",
        ("contacts_messaged",),
        "many",
        [
            ("platform", "platform_first"),
            ("nfra", "licensed"),
            ("nifa", "role_industry_association"),
            ("local_financial_bureau", "licensed"),
            ("report_12321", "calls_sms"),
            ("cac_12377", "data_misuse"),
            ("carriers", "calls_sms"),
            ("police", "calls_sms"),
            ("mps_cyber", "data_misuse"),
            ("courts", "data_misuse"),
        ],
        {
            "platform_complaint": ["nifa_letter_2017", "pipl_5", "pipl_6", "pipl_10"],
            "regulator_complaint": ["nifa_letter_2017", "gbt_45251_2025"],
            "association_report": ["nifa_letter_2017", "gbt_45251_2025"],
            "report_center_complaint": ["civil_1033_1", "civil_1032", "pipl_5", "pipl_6"],
            "police_statement": ["crim_293", "crim_253_1", "psapl_50_1_5", "psapl_50_2"],
        },
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
            ("nifa", "role_industry_association"),
            ("report_12321", "calls_sms"),
            ("cac_12377", "data_misuse"),
            ("carriers", "calls_sms"),
            ("courts", "data_misuse"),
        ],
        {
            "police_statement": ["crim_293_1", "crim_293", "crim_253_1", "psapl_50_1_5"],
            "platform_complaint": ["pipl_5", "pipl_6", "pipl_10", "gbt_45251_2025"],
            "association_report": ["gbt_45251_2025"],
            "report_center_complaint": ["pipl_5", "civil_1033_1", "civil_1032", "pipl_6"],
        },
    ),
    (
        "cn",
        "unknown",
        ("data_published",),
        "few",
        [
            ("platform", "platform_first"),
            ("nfra", "if_licensed"),
            ("nifa", "role_industry_association"),
            ("local_financial_bureau", "if_licensed"),
            ("report_12321", "data_misuse"),
            ("cac_12377", "defamation_online"),
            ("police", "defamation_online"),
            ("mps_cyber", "defamation_online"),
            ("courts", "defamation_online"),
        ],
        {
            "platform_complaint": ["pipl_10", "pipl_23", "pipl_28_29", "gbt_45251_2025"],
            "regulator_complaint": ["gbt_45251_2025"],
            "association_report": ["gbt_45251_2025"],
            "report_center_complaint": ["civil_1032", "pipl_10", "pipl_23", "pipl_28_29"],
            "police_statement": ["crim_253_1", "psapl_56"],
        },
    ),
    (
        "cn",
        "licensed",
        ("credit_report",),
        "none",
        [
            ("platform", "platform_first"),
            ("nfra", "licensed"),
            ("nifa", "role_industry_association"),
            ("local_financial_bureau", "licensed"),
            ("pboc", "credit_report"),
            ("crc", "credit_report"),
        ],
        {
            "platform_complaint": ["gbt_45251_2025", "pipl_60"],
            "regulator_complaint": ["gbt_45251_2025"],
            "association_report": ["gbt_45251_2025"],
        },
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
            ("buro_entidades", "role_registry"),
            ("sabg", "data_misuse"),
            ("ficosec", "threats"),
        ],
        {
            "police_statement": ["cpf_284_bis"],
            "platform_complaint": ["ifai_condusef_guide_2015", "lfpdppp_2025"],
            "regulator_complaint": ["ifai_condusef_guide_2015"],
            "collection_registry_complaint": ["ifai_condusef_guide_2015"],
            "data_protection_complaint": ["lfpdppp_2025", "ifai_condusef_guide_2015"],
        },
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
            ("sipres", "always"),
            ("sabg", "unlicensed"),
        ],
        {
            "platform_complaint": ["ifai_condusef_guide_2015", "lfpdppp_2025"],
            "police_statement": [],
            "data_protection_complaint": ["lfpdppp_2025", "ifai_condusef_guide_2015"],
        },
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
        {
            "platform_complaint": [
                "ley2300_references",
                "ley1581_2012",
                "ley1266_2008",
                "ley1328_2009",
            ],
            "regulator_complaint": ["ley2300_references", "ley1328_2009"],
            "data_protection_complaint": ["ley1581_2012", "ley1266_2008"],
            "police_statement": ["ley1273_2009"],
        },
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
        {
            "police_statement": ["ley1273_2009"],
            "platform_complaint": ["ley1266_2008", "ley1328_2009"],
            "data_protection_complaint": ["ley1266_2008"],
        },
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
            ("indecopi", "calls_sms"),
            ("anpd", "unlicensed"),
        ],
        {
            "platform_complaint": ["ley29571_61", "ley29733"],
            "police_statement": [],
            "regulator_complaint": ["ley29571_61"],
            "data_protection_complaint": ["ley29733"],
        },
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
        {
            "platform_complaint": ["gdpr_lopdgdd", "aepd_yo_cobro"],
            "regulator_complaint": [],
            "data_protection_complaint": ["gdpr_lopdgdd", "aepd_yo_cobro"],
            "police_statement": [],
        },
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
        {
            "police_statement": ["cp_172_3", "cp_172_ter"],
            "platform_complaint": [],
            "data_protection_complaint": [],
        },
    ),
    (
        "generic",
        "unknown",
        ("contacts_messaged",),
        "many",
        [
            ("platform", "platform_first"),
            ("financial_regulator", "if_licensed"),
            ("data_protection", "data_misuse"),
            ("app_store", "role_content_report"),
            ("police", "role_police"),
        ],
        {
            "platform_complaint": [],
            "regulator_complaint": [],
            "data_protection_complaint": [],
            "report_center_complaint": [],
            "police_statement": [],
        },
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
        {
            "platform_complaint": [],
            "police_statement": [],
            "data_protection_complaint": [],
            "report_center_complaint": [],
        },
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
    destinations = route(case, CONTENT.index.bodies[jurisdiction], NOW.date())
    assert [(d.body, d.reason) for d in destinations] == expected
    cited = {
        template: [b.id for b in cited_bases(CONTENT.jurisdictions[jurisdiction], case, template)]
        for template in case_documents(case, CONTENT.index, NOW.date())
    }
    assert cited == bases
    for lang in ("es", "zh-Hans", "en"):
        for template in [*cited, "contacts"]:
            text = Renderer(CONTENT).render(template, case, lang, NOW)
            assert "UNVERIFIED" not in text


def test_there_are_at_least_twelve_distinct_patterns():
    keys = {(p[0], p[1], p[2], p[3]) for p in PATTERNS}
    assert len(keys) >= 12
    assert {p[0] for p in PATTERNS} >= {"cn", "mx", "co", "pe", "es", "generic"}


def test_threats_put_the_police_first_everywhere_and_their_statement_first():
    for jurisdiction in CONTENT.jurisdictions:
        case = make_case(jurisdiction, "licensed", ["violence_threats"], "many")
        first = route(case, CONTENT.index.bodies[jurisdiction])[0]
        roles = {b.id: b.role for b in CONTENT.index.bodies[jurisdiction]}
        if any(r in ("police", "police_online", "prosecutor") for r in roles.values()):
            assert roles[first.body] in ("police", "police_online", "prosecutor"), jurisdiction
            documents = case_documents(case, CONTENT.index, NOW.date())
            assert documents[0] == "police_statement", jurisdiction


def test_an_unlicensed_lender_never_goes_to_a_licensed_only_regulator():
    for jurisdiction in CONTENT.jurisdictions:
        case = make_case(jurisdiction, "unlicensed", ["contacts_messaged"], "many")
        for destination in route(case, CONTENT.index.bodies[jurisdiction]):
            body = next(
                (b for b in CONTENT.index.bodies[jurisdiction] if b.id == destination.body), None
            )
            if body is not None:
                assert body.scope != ("licensed",), (jurisdiction, body.id)


def test_an_unanswered_platform_is_said_so_and_comes_after_the_regulators():
    case = make_case("cn", "licensed", [], "none", complained=True, outcome="no_answer")
    assert "platform_unresolved" in case_tags(case)
    destinations = route(case, CONTENT.index.bodies["cn"])
    platform = next(d for d in destinations if d.body == "platform")
    assert platform.reason == "platform_unresolved"
    assert destinations[0].body == "nfra"


def test_a_platform_asked_twenty_working_days_ago_is_no_longer_first():
    case = make_case(
        "mx", "licensed", [], "none", complained=True, complained_on=date(2026, 10, 30)
    )
    destinations = route(case, CONTENT.index.bodies["mx"], NOW.date())
    assert destinations[0].body != "platform"
    assert next(d for d in destinations if d.body == "platform").reason == "platform_period_over"
    assert case_documents(case, CONTENT.index, NOW.date())[0] != "platform_complaint"


def test_an_unlicensed_app_in_peru_gets_the_sbs_only_as_a_referral():
    case = make_case("pe", "unlicensed", ["contacts_messaged"], "many")
    assert "sbs" not in [d.body for d in route(case, CONTENT.index.bodies["pe"])]
    others = Renderer(CONTENT).context(case, "es", NOW)["others"]
    sbs = next(b for b in others if b["native_name"].startswith("Superintendencia"))
    assert "polic" in sbs["not_handles"].lower()


def test_a_chinese_consumer_finance_company_goes_to_the_nfra_not_the_pboc():
    case = make_case(
        "cn", "licensed", ["contacts_messaged"], "many", lender_type="consumer_finance"
    )
    bodies = [d.body for d in route(case, CONTENT.index.bodies["cn"])]
    assert "nfra" in bodies
    assert "pboc" not in bodies  # payment and credit-reporting institutions only
    assert "local_financial_bureau" not in bodies  # it supervises small-loan companies
    small = make_case("cn", "licensed", [], "none", lender_type="small_loan")
    bodies = [d.body for d in route(small, CONTENT.index.bodies["cn"])]
    assert "local_financial_bureau" in bodies and "nfra" not in bodies
    credit = make_case("cn", "licensed", ["credit_report"], "none")
    assert "pboc" in [d.body for d in route(credit, CONTENT.index.bodies["cn"])]


def test_mexico_city_article_209_bis_only_in_mexico_city():
    def cited(region):
        case = make_case(
            "mx", "licensed", ["contacts_messaged", "insults", "violence_threats"], "many"
        )
        case.region = region
        return [
            b.id
            for template in ("police_statement", "contact_complaint", "platform_complaint")
            for b in cited_bases(CONTENT.jurisdictions["mx"], case, template)
        ]

    article = next(b.id for b in CONTENT.jurisdictions["mx"].legal_bases if b.region == "cdmx")
    assert article in cited("cdmx")
    assert article not in cited("other_state")
    assert article not in cited(None)


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
    # document: what its destination needs to find in it (English wording)
    "platform_complaint": [
        "QuickCash", "WHAT HAPPENED", "THE LOAN", "Contract or order number: QC-118",
        "EVIDENCE", "WHAT I ASK",
    ],
    "regulator_complaint": [
        "Complainant: Li Wei", "liwei@example.com", "Lender / app: QuickCash", "WHAT HAPPENED",
        "Contract or order number: QC-118", "EVIDENCE", "LEGAL BASIS", "WHAT I ASK",
    ],
    "police_statement": [
        "Reported by: Li Wei", "FACTS IN TIME ORDER", "NUMBERS, NAMES AND ACCOUNTS",
        "+86 139 1234 5678", "EVIDENCE",
    ],
    "data_protection_complaint": ["Lender / app: QuickCash", "WHAT HAPPENED", "WHAT I ASK"],
    "collection_registry_complaint": [
        "WHO COLLECTED", "Creditor (lender / app): QuickCash", "CHANNELS USED", "phone calls",
        "REASON FOR THE CONTACT", "Contract or order number: QC-118",
    ],
    "report_center_complaint": ["NUMBERS, NAMES AND ACCOUNTS", "+86 139 1234 5678"],
    "association_report": ["RULES BROKEN", "QuickCash", "WHAT HAPPENED"],
    "contact_complaint": ["QuickCash", "[your name]"],
}  # fmt: skip


@pytest.mark.parametrize("template", sorted(REQUIRED))
def test_each_destination_template_has_the_fields_its_destination_requires(template):
    case = make_case("mx", "licensed", ["contacts_messaged", "violence_threats"], "many")
    case.details.collectors = ["+86 139 1234 5678"]
    case.details.reach = ["calls"]
    case.details.story = "They messaged my whole address book."
    case.loan.contract = "QC-118"
    case.details.since_on = date(2026, 10, 1)
    case.privacy.name_mode, case.privacy.name = "full", "Li Wei"
    case.privacy.contact = "liwei@example.com"
    jurisdiction = "cn" if template == "association_report" else "mx"
    case.jurisdiction = jurisdiction
    text = Renderer(CONTENT).render(template, case, "en", NOW)
    for field in REQUIRED[template]:
        assert field in text, (template, field)
    assert "Li Wei" in text or template == "contact_complaint"
