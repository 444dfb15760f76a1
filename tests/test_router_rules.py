"""The router's and the legal-basis rules, on small synthetic tables (no real content).

A change of facts in ``content/`` cannot break these; the real content has its own snapshot
tests in tests/test_router.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from dialogs.bases import MAX_BASES, bases_for
from dialogs.case import Case
from dialogs.router import BodyRef, can_act, route, working_days_between

NOW = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday
TODAY = NOW.date()

BODIES = (
    BodyRef(id="supervisor", role="financial_regulator", scope=("licensed",),
            lender_types=("bank", "consumer_finance")),
    BodyRef(id="local", role="local_regulator", scope=("licensed",), lender_types=("small_loan",)),
    BodyRef(id="association", role="industry_association", scope=("licensed", "unlicensed")),
    BodyRef(id="central_bank", role="central_bank", scope=("credit_report",)),
    BodyRef(id="consumer", role="consumer", scope=("non_financial",)),
    BodyRef(id="dpa", role="data_protection", scope=("data_misuse", "contacts_harassed")),
    BodyRef(id="calls", role="report_center", scope=("calls_sms", "contacts_harassed")),
    BodyRef(id="police", role="police",
            scope=("threats", "contacts_harassed", "unlicensed", "emergency")),
    BodyRef(id="city_police", role="police_online", scope=("threats",), regions=("capital",)),
    BodyRef(id="register", role="registry", scope=("always",)),
)  # fmt: skip


def case(**facts) -> Case:
    made = Case(number=1, jurisdiction="x", created_at=NOW, updated_at=NOW)
    made.platform.licensed = facts.pop("licensed", "licensed")
    made.platform.lender_type = facts.pop("lender_type", None)
    made.platform.complained = facts.pop("complained", None)
    made.platform.complained_on = facts.pop("complained_on", None)
    made.platform.outcome = facts.pop("outcome", None)
    made.details.behaviours = list(facts.pop("behaviours", ()))
    made.details.contacts_reached = facts.pop("contacts", None)
    made.details.danger = facts.pop("danger", False)
    made.speaker = facts.pop("speaker", None)
    made.region = facts.pop("region", None)
    assert not facts, facts
    return made


def bodies(destinations) -> list[str]:
    return [d.body for d in destinations]


def test_the_platform_comes_first_without_threats():
    assert route(case(), BODIES, TODAY)[0].body == "platform"


def test_threats_put_the_police_first_and_their_statement_first():
    destinations = route(case(behaviours=["violence_threats"]), BODIES, TODAY)
    assert destinations[0].body == "police"
    assert destinations[0].template == "police_statement"


def test_danger_now_puts_the_police_first():
    assert route(case(danger=True), BODIES, TODAY)[0].reason == "emergency"


def test_a_platform_whose_period_is_over_is_no_longer_first():
    asked = date(2026, 11, 2)  # 20 working days before TODAY
    assert working_days_between(asked, TODAY) == 20
    destinations = route(case(complained=True, complained_on=asked), BODIES, TODAY)
    assert destinations[0].body != "platform"
    platform = next(d for d in destinations if d.body == "platform")
    assert platform.reason == "platform_period_over"
    assert bodies(destinations).index("platform") > bodies(destinations).index("supervisor")


def test_a_platform_asked_recently_stays_first():
    destinations = route(case(complained=True, complained_on=date(2026, 11, 25)), BODIES, TODAY)
    assert destinations[0].body == "platform"


def test_a_resolved_platform_is_not_overdue():
    facts = {"complained": True, "complained_on": date(2026, 10, 1), "outcome": "resolved"}
    assert route(case(**facts), BODIES, TODAY)[0].body == "platform"


def test_a_supervisor_of_other_lender_types_is_not_a_destination():
    found = bodies(route(case(lender_type="consumer_finance"), BODIES, TODAY))
    assert "supervisor" in found
    assert "local" not in found
    found = bodies(route(case(lender_type="small_loan"), BODIES, TODAY))
    assert "local" in found and "supervisor" not in found


def test_an_unknown_lender_type_keeps_every_supervisor():
    found = bodies(route(case(lender_type="unknown"), BODIES, TODAY))
    assert {"supervisor", "local"} <= set(found)


def test_the_central_bank_and_the_consumer_body_only_where_they_can_act():
    assert "central_bank" not in bodies(route(case(), BODIES, TODAY))
    assert "consumer" not in bodies(route(case(), BODIES, TODAY))
    credit = route(case(behaviours=["credit_report"]), BODIES, TODAY)
    assert next(d for d in credit if d.body == "central_bank").reason == "credit_report"


def test_an_association_is_never_said_to_supervise():
    for licensed in ("licensed", "unlicensed", "unknown"):
        association = next(
            d for d in route(case(licensed=licensed), BODIES, TODAY) if d.body == "association"
        )
        assert association.reason == "role_industry_association"
        assert association.template == "association_report"


def test_a_supervisor_is_there_because_the_lender_is_licensed():
    supervisor = next(d for d in route(case(), BODIES, TODAY) if d.body == "supervisor")
    assert supervisor.reason == "licensed"
    unknown = route(case(licensed="unknown"), BODIES, TODAY)
    assert next(d for d in unknown if d.body == "supervisor").reason == "if_licensed"
    assert "supervisor" not in bodies(route(case(licensed="unlicensed"), BODIES, TODAY))


def test_a_register_takes_no_document():
    register = next(d for d in route(case(), BODIES, TODAY) if d.body == "register")
    assert register.template is None


def test_a_regional_body_only_for_its_region():
    threats = {"behaviours": ["violence_threats"]}
    assert "city_police" in bodies(route(case(region="capital", **threats), BODIES, TODAY))
    assert "city_police" not in bodies(route(case(region="north", **threats), BODIES, TODAY))
    assert "city_police" in bodies(route(case(**threats), BODIES, TODAY))  # region not asked


def test_a_harassed_contact_goes_only_where_a_third_party_can():
    destinations = route(case(speaker="contact"), BODIES, TODAY)
    assert set(bodies(destinations)) == {"platform", "dpa", "calls", "police"}
    assert destinations[0].reason == "platform_contact"
    assert not can_act(case(speaker="contact"), BODIES[0])


@dataclass(frozen=True)
class FakeBasis:
    id: str
    domains: tuple[str, ...]
    behaviours: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    lender_types: tuple[str, ...] = ()
    region: str | None = None
    current: bool = True
    in_documents: bool = True


BASES = (
    FakeBasis("illegal_debt", ("criminal",), ("contacts_messaged",), requires=("unlicensed",)),
    FakeBasis("harassment", ("public_order",), ("contacts_messaged", "insults")),
    FakeBasis("old_harassment", ("public_order",), ("contacts_messaged",), current=False),
    FakeBasis("reform", ("criminal",), ("insults",), in_documents=False),
    FakeBasis("capital_code", ("criminal",), ("insults",), region="capital"),
    FakeBasis("privacy", ("data_protection",)),
    FakeBasis("privacy_contacts", ("data_protection",), ("contacts_messaged",)),
    FakeBasis("guideline", ("collection",), ("contacts_messaged",), lender_types=("bank",)),
    FakeBasis("conduct", ("collection",), ("insults",)),
    FakeBasis("threat", ("criminal",), ("violence_threats",)),
    FakeBasis("extortion", ("criminal",), ("extortion",)),
    FakeBasis("defamation", ("criminal",), ("defamation",)),
)


def ids(found) -> list[str]:
    return [b.id for b in found]


def test_each_document_cites_only_its_readers_domains():
    facts = case(behaviours=["contacts_messaged", "insults"])
    assert ids(bases_for("police_statement", facts, BASES)) == ["harassment"]
    assert ids(bases_for("data_protection_complaint", facts, BASES)) == [
        "privacy_contacts", "privacy",
    ]  # fmt: skip
    assert ids(bases_for("regulator_complaint", facts, BASES)) == ["conduct"]


def test_conditions_must_be_stated_facts():
    unknown = case(licensed="unknown", behaviours=["contacts_messaged"])
    assert "illegal_debt" not in ids(bases_for("police_statement", unknown, BASES))
    unlicensed = case(licensed="unlicensed", behaviours=["contacts_messaged"])
    assert ids(bases_for("police_statement", unlicensed, BASES))[0] == "illegal_debt"
    bank = case(lender_type="bank", behaviours=["contacts_messaged"])
    assert ids(bases_for("regulator_complaint", bank, BASES)) == ["guideline"]
    nobody = case(behaviours=["contacts_messaged"])
    assert ids(bases_for("regulator_complaint", nobody, BASES)) == []


def test_a_state_article_only_in_that_state():
    def cited(**facts) -> list[str]:
        return ids(bases_for("police_statement", case(behaviours=["insults"], **facts), BASES))

    assert "capital_code" in cited(region="capital")
    assert "capital_code" not in cited(region="north")
    assert "capital_code" not in cited()


def test_superseded_and_caveated_bases_are_never_cited():
    behaviours = ["contacts_messaged", "insults"]
    every = case(licensed="unlicensed", region="capital", behaviours=behaviours)
    for document in ("police_statement", "platform_complaint", "contact_complaint"):
        found = ids(bases_for(document, every, BASES))
        assert "old_harassment" not in found and "reform" not in found


def test_at_most_four_the_most_specific_first():
    every = case(
        licensed="unlicensed", region="capital",
        behaviours=["contacts_messaged", "insults", "violence_threats", "extortion", "defamation"],
    )  # fmt: skip
    found = ids(bases_for("police_statement", every, BASES))
    assert len(found) == MAX_BASES
    assert found[:2] == ["illegal_debt", "capital_code"]
    assert found[2] == "harassment"  # two reported behaviours before one


def test_no_domain_crowds_out_the_others():
    many = tuple(
        FakeBasis(f"privacy_{n}", ("data_protection",), ("contacts_messaged",)) for n in range(5)
    )
    order = (FakeBasis("public_order", ("public_order",)), *many)
    found = ids(bases_for("contact_complaint", case(speaker="contact"), order))
    assert len(found) == MAX_BASES
    assert "public_order" in found
