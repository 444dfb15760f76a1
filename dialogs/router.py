"""The escalation router: the case's facts -> where to complain, in order, and why.

Rules (the tables below; the bodies and their scopes are content, so no country is named
here):
- Facts become tags: what the collectors did, whether contacts were reached, whether the
  lender is licensed (unknown counts as both, and the registry comes first to check it),
  whether the platform already failed to answer or let its period pass.
- A body is a destination when one of its scope tags is among the case's tags, and, when it
  supervises only some lender types and the user named the lender's type, that type is one
  of them. A body that is not a destination is "not for this case" (its content says why).
- A harassed contact (not the borrower) is sent only to the bodies that protect a third
  party: the lender, data protection, reporting centres and the police.
- Destinations are ranked by role: the platform itself first, then the financial regulators
  (they can act only on licensed lenders), then data-protection and reporting centres, then
  the police. Threats, extortion and danger now put the police first; an unlicensed
  lender puts the police before anything a regulator could do. A platform that was asked
  and did not solve it, or did not answer within its period, goes after the bodies that
  can make it answer.
- The reason given for a destination is the most serious tag it shares with the case; a
  lender's licence is a reason only for a body that supervises lenders.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict

from dialogs.case import Case

PLATFORM = "platform"
PLATFORM_PERIOD_WORKING_DAYS = 15
"""How long the lender is given to answer before the router moves past it. No rule in the
facts sheet sets this for every country; it is the bot's own choice, the period most bodies
there give themselves."""

BEHAVIOUR_TAGS: dict[str, tuple[str, ...]] = {
    "contacts_messaged": ("contacts_harassed", "calls_sms", "data_misuse"),
    "employer_contacted": ("contacts_harassed", "data_misuse"),
    "night_calls": ("calls_sms",),
    "insults": ("calls_sms",),
    "violence_threats": ("threats",),
    "extortion": ("extortion", "threats"),
    "fake_legal": ("fake_legal", "threats"),
    "impersonation": ("fake_legal", "threats"),
    "doctored_photos": ("defamation_online", "threats"),
    "defamation": ("defamation_online",),
    "data_published": ("defamation_online", "data_misuse"),
    "credit_report": ("credit_report",),
}

ROLE_RANK: dict[str, int] = {
    "registry": 25,
    "financial_regulator": 20,
    "industry_association": 21,
    "local_regulator": 22,
    "central_bank": 23,
    "consumer": 24,
    "data_protection": 30,
    "report_center": 31,
    "content_report": 32,
    "carrier": 33,
    "telecom_appeal": 34,
    "police": 40,
    "police_online": 41,
    "prosecutor": 42,
    "credit_reference": 50,
    "court": 60,
    "support": 70,
}
PLATFORM_RANK = 10
"""The lender's own channel comes before every regulator (and after the police when the
police come first)."""
PLATFORM_TRIED_RANK = 45
"""A lender already asked in vain comes after the bodies that can make it answer."""
POLICE = ("police_online", "police", "prosecutor")
SUPERVISORS = ("financial_regulator", "local_regulator", "central_bank")
"""Roles for which the lender's licence is itself the reason: they supervise lenders."""
FOR_CONTACTS = (
    "data_protection", "report_center", "content_report", "carrier", *POLICE,
)  # fmt: skip
"""The roles a harassed contact can turn to on their own behalf (besides the lender)."""
REASONS = (
    "emergency", "threats", "extortion", "fake_legal", "unlicensed", "licensed",
    "credit_report", "defamation_online", "calls_sms", "data_misuse", "contacts_harassed",
    "carrier_unresponsive", "always",
)  # fmt: skip
"""Tags from the most to the least serious: a destination's reason is the first it matches."""


class BodyRef(BaseModel):
    """What the router needs to know about a body (from the jurisdiction content)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    role: str
    scope: tuple[str, ...]
    template: str | None = None
    deadline_days: int | None = None
    deadline_kind: str | None = None
    deadline_of: str = "body"
    lender_types: tuple[str, ...] = ()
    """The lender types this body supervises; empty: no such limit."""
    regions: tuple[str, ...] = ()
    """The regions this body serves; empty: the whole jurisdiction."""


class Destination(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    body: str
    """A body id of the jurisdiction, or "platform" for the lender's own channel."""
    reason: str
    """A content key suffix: ``reason.<reason>``."""
    template: str | None
    """The document this destination takes; None for a register the user only consults."""
    deadline_days: int | None = None
    deadline_kind: str | None = None
    deadline_of: str = "body"


TEMPLATES = {
    "financial_regulator": "regulator_complaint",
    "industry_association": "association_report",
    "local_regulator": "regulator_complaint",
    "central_bank": "regulator_complaint",
    "consumer": "regulator_complaint",
    "data_protection": "data_protection_complaint",
    "report_center": "report_center_complaint",
    "content_report": "report_center_complaint",
    "carrier": "report_center_complaint",
    "telecom_appeal": "report_center_complaint",
    "police_online": "police_statement",
    "police": "police_statement",
    "prosecutor": "police_statement",
}
"""The complaint each role receives by default (a body may name another); a role not
listed (a register to consult, a court, support) takes no document of ours."""


def case_tags(case: Case, today: date | None = None) -> set[str]:
    """Return the tags describing the case's facts (``today`` counts the platform's period)."""
    tags = {"always"}
    licensed = case.platform.licensed
    if licensed in (None, "unknown"):
        tags |= {"licensed", "unlicensed", "lender_unknown"}
    else:
        tags.add(licensed)
    for behaviour in case.details.behaviours:
        tags.update(BEHAVIOUR_TAGS.get(behaviour, ()))
    if case.details.contacts_reached not in (None, "none", "unknown"):
        tags.add("contacts_harassed")
    if case.details.danger:
        tags |= {"emergency", "threats"}
    if "data_published" in case.details.behaviours or case.details.posted:
        tags.add("defamation_online")
    if case.details.disclosed:
        tags.add("contacts_harassed")
    if case.speaker == "contact":
        tags |= {"contact", "contacts_harassed", "data_misuse", "calls_sms"}
    platform = case.platform
    if platform.complained and platform.outcome in ("no_answer", "refused", "promised"):
        tags.add("platform_unresolved")
    elif (
        platform.complained
        and platform.outcome != "resolved"
        and platform.complained_on is not None
        and today is not None
        and working_days_between(platform.complained_on, today) >= PLATFORM_PERIOD_WORKING_DAYS
    ):
        tags |= {"platform_unresolved", "platform_period_over"}
    return tags


def working_days_between(start: date, end: date) -> int:
    """Return the Monday-to-Friday days after ``start`` up to and including ``end``."""
    days = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days += 1
    return days


def can_act(case: Case, body: BodyRef, tags: set[str] | None = None) -> bool:
    """Whether the body is a destination for this case's facts."""
    tags = case_tags(case) if tags is None else tags
    if body.role == PLATFORM:
        return False
    if "contact" in tags and body.role not in FOR_CONTACTS:
        return False
    lender_type = case.platform.lender_type
    if body.lender_types and lender_type not in (None, "unknown", *body.lender_types):
        return False
    if body.regions and case.region is not None and case.region not in body.regions:
        return False
    return bool(tags.intersection(body.scope) or "always" in body.scope)


def route(case: Case, bodies: tuple[BodyRef, ...], today: date | None = None) -> list[Destination]:
    """Return the destinations for the case, most urgent first."""
    tags = case_tags(case, today)
    platform_rank = PLATFORM_TRIED_RANK if "platform_unresolved" in tags else PLATFORM_RANK
    ranked: list[tuple[int, int, Destination]] = [(platform_rank, -1, _platform(tags))]
    for index, body in enumerate(bodies):
        if not can_act(case, body, tags):
            continue
        shared = tags.intersection(body.scope) | ({"always"} & set(body.scope))
        ranked.append((_rank(body, tags), index, _destination(body, shared, tags)))
    return [destination for _, _, destination in sorted(ranked, key=lambda r: r[:2])]


def _rank(body: BodyRef, tags: set[str]) -> int:
    rank = ROLE_RANK.get(body.role, 90)
    if body.role in POLICE:
        if tags & {"threats", "extortion", "emergency"}:
            rank -= 40
        elif "unlicensed" in tags and "lender_unknown" not in tags:
            rank -= 26
    if body.role == "registry" and "lender_unknown" in tags:
        rank = 11
    return rank


def _platform(tags: set[str]) -> Destination:
    if "contact" in tags:
        reason = "platform_contact"
    elif "platform_period_over" in tags:
        reason = "platform_period_over"
    elif "platform_unresolved" in tags:
        reason = "platform_unresolved"
    elif "unlicensed" in tags and "lender_unknown" not in tags:
        reason = "platform_unlicensed"
    else:
        reason = "platform_first"
    return Destination(body=PLATFORM, reason=reason, template="platform_complaint")


def _destination(body: BodyRef, shared: set[str], tags: set[str]) -> Destination:
    lender = shared & {"licensed", "unlicensed"}
    if body.role in SUPERVISORS and lender:
        shared = lender  # a supervisor is there because of who the lender is
    elif body.role == "industry_association":
        shared = set()  # it takes reports and passes them on: its role is the reason
    elif body.role not in SUPERVISORS:
        shared = shared - {"licensed"}  # only a supervisor acts because of a licence
        if "lender_unknown" in tags:
            shared = shared - {"unlicensed"}  # the police act whoever the lender is
    reason = next((tag for tag in REASONS if tag in shared), "role")
    if reason == "role":
        reason = f"role_{body.role}"
    if body.role == "registry" and "lender_unknown" in tags:
        reason = "check_registration"
    elif reason in ("licensed", "unlicensed") and "lender_unknown" in tags:
        reason = f"if_{reason}"
    return Destination(
        body=body.id,
        reason=reason,
        template=body.template or TEMPLATES.get(body.role),
        deadline_days=body.deadline_days,
        deadline_kind=body.deadline_kind,
        deadline_of=body.deadline_of,
    )
