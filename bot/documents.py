"""What a document may say: the case's known facts, in the reader's language and time zone.

A document (a complaint, a statement, a report) is rendered from one template shared by
every language, ``content/templates/documents/<name>.txt.j2``; its fixed wording comes from
``doc.*`` texts in the document's language. The template reads the case only through
``fact(field)``, which returns None for anything the user did not state: a sentence about a
fact is written only when that fact is known (the truth rule, see the templates' macros).

Dates are the dates things happened (forwarded messages' original dates, dates the user gave)
in the jurisdiction's local time; upload time appears only as "received".

What the user wrote about harming themselves is never copied into a document meant for
others: such sentences of the story and of their own captions are left out (the rest is
kept); they stay in the case, the user's own record (``dialogs.crisis``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.content import Content
from bot.jurisdictions import Jurisdiction, LegalBasis
from dialogs.bases import DOCUMENT_DOMAINS, bases_for
from dialogs.case import Case, EvidenceItem
from dialogs.crisis import without_self_harm
from dialogs.events import EvidenceKind
from dialogs.pattern import pattern

DOCUMENTS = tuple(DOCUMENT_DOMAINS)
"""The document types; each has a template in ``content/templates/documents/``."""

MAX_QUOTES = 5
"""Forwarded messages quoted in full; the others are referred to by evidence number."""
MAX_QUOTE_CHARS = 400

CONTACTS_INVOLVED = ("contacts_messaged", "employer_contacted")

Masker = Callable[[str | None], str | None]


def document_lang(content: Content, case: Case, user_lang: str) -> str:
    """Return the language the destination's readers read (the user's when no other)."""
    jurisdiction = content.jurisdictions.get(case.jurisdiction or "generic")
    wanted = jurisdiction.documents_lang if jurisdiction else None
    return wanted if wanted and wanted in content.texts else user_lang


@dataclass(frozen=True)
class Clock:
    """Dates and times in the jurisdiction's zone, written the way the language writes them."""

    content: Content
    lang: str
    zone: ZoneInfo

    def day(self, value: date) -> str:
        month = self.content.text(f"doc.month.{value.month}", self.lang)
        return self.content.text(
            "doc.date_format",
            self.lang,
            {"y": value.year, "m": value.month, "d": value.day, "month": month},
        )

    def month(self, value: date) -> str:
        month = self.content.text(f"doc.month.{value.month}", self.lang)
        return self.content.text(
            "doc.month_format", self.lang, {"y": value.year, "m": value.month, "month": month}
        )

    def moment(self, value: datetime) -> str:
        local = value.astimezone(self.zone)
        offset = local.strftime("%z")
        zone = f"UTC{offset[:3]}:{offset[3:]}" if offset not in ("", "+0000") else "UTC"
        return self.content.text(
            "doc.datetime_format",
            self.lang,
            {"date": self.day(local.date()), "time": local.strftime("%H:%M"), "zone": zone},
        )


def document_context(
    content: Content,
    case: Case,
    template: str,
    lang: str,
    now: datetime,
    safe: Masker,
    victim: dict[str, str | None],
    *,
    user_lang: str | None = None,
    trace: bool = False,
) -> dict[str, Any]:
    """Build the context of one document in ``lang`` (the user writes in ``user_lang``)."""
    jurisdiction = content.jurisdictions[case.jurisdiction or "generic"]
    clock = Clock(content, lang, ZoneInfo(jurisdiction.timezone))
    facts = known_facts(content, case, lang, clock, safe, victim)
    quotes = _quotes(case, clock, safe)

    def t(key: str, **params: Any) -> str:
        return content.text(f"doc.{key}", lang, params)

    def fact(field: str) -> Any:
        return facts.get(field)

    def mark(field: str) -> str:
        if trace:
            return f"⟦{field}⟧"
        return ""

    written_in = None
    if user_lang and user_lang != lang:
        key = f"doc.language.{user_lang}"
        texts = content.texts[lang]
        written_in = texts[key] if key in texts else content.text(f"language.{user_lang}", lang)
    return {
        "lang": lang,
        "template": template,
        "written_in": written_in,
        "today": clock.day(now.astimezone(clock.zone).date()),
        "t": t,
        "fact": fact,
        "mark": mark,
        "quotes": quotes[:MAX_QUOTES],
        "more_quotes": [q["number"] for q in quotes[MAX_QUOTES:]],
        "events": _chronology(case, clock, content, lang),
        "evidence": [_evidence_row(item, content, lang, clock, safe) for item in case.evidence],
        "bases": [_basis(b, lang) for b in cited_bases(jurisdiction, case, template)],
        "requests": requests(template, case),
    }


def cited_bases(jurisdiction: Jurisdiction, case: Case, template: str) -> list[LegalBasis]:
    """Return the legal bases a document of this type cites for the case."""
    return bases_for(template, case, jurisdiction.legal_bases)


def known_facts(
    content: Content,
    case: Case,
    lang: str,
    clock: Clock,
    safe: Masker,
    victim: dict[str, str | None],
) -> dict[str, Any]:
    """Return every fact of the case the user stated, by field; unknown facts are absent."""

    def label(key: str) -> str:
        return content.text(key, lang)

    def day(value: date | None) -> str | None:
        return clock.day(value) if value else None

    platform, loan, details, contact = case.platform, case.loan, case.details, case.contact
    behaviours = [label(f"doc.behaviour.{b}") for b in details.behaviours]
    reach = [label(f"doc.reach.{r}") for r in details.reach]
    contacts_reached = details.contacts_reached
    if contacts_reached in ("none", "unknown"):
        contacts_reached = None
    elif contacts_reached is not None and not contacts_reached.isdecimal():
        contacts_reached = label(f"doc.contacts.{contacts_reached}")
    since: str | None
    if details.since_on and details.since_month_only:
        since = clock.month(details.since_on)
    else:
        since = day(details.since_on) or safe(details.since)
    complained_on = day(platform.complained_on)
    if platform.complained_on and platform.complained_month_only:
        complained_on = clock.month(platform.complained_on)
    facts: dict[str, Any] = {
        "victim.name": victim.get("name"),
        "victim.contact": victim.get("contact"),
        "speaker.borrower": True if case.speaker == "borrower" else None,
        "speaker.contact": True if case.speaker == "contact" else None,
        "platform.name": safe(platform.name),
        "platform.operator": safe(platform.operator),
        "platform.lender_type": (
            label(f"doc.lender_type.{platform.lender_type}")
            if platform.lender_type not in (None, "unknown")
            else None
        ),
        "platform.licensed": True if platform.licensed == "licensed" else None,
        "platform.unlicensed": True if platform.licensed == "unlicensed" else None,
        "platform.complained": True if platform.complained else None,
        "platform.complained_on": (
            complained_on or (safe(platform.complained_when) if platform.complained else None)
        ),
        "platform.channel": (
            label(f"doc.channel.{platform.channel}") if platform.channel else None
        ),
        "platform.reference": safe(platform.reference),
        "platform.outcome": (
            label(f"doc.outcome.{platform.outcome}") if platform.outcome else None
        ),
        "loan.account": safe(loan.account),
        "loan.contract": safe(loan.contract),
        "loan.amount": safe(loan.amount),
        "loan.borrowed_on": day(loan.borrowed_on),
        "loan.due_on": day(loan.due_on),
        "loan.repaid": safe(loan.repaid),
        "loan.demanded": safe(loan.demanded),
        "details.since": since,
        "details.contacts_reached": contacts_reached,
        "details.disclosed": True if details.disclosed else None,
        "details.reach": label("doc.list_join").join(reach) if reach else None,
        "details.posted": True if details.posted else None,
        "details.pattern": _pattern(case, content, lang, clock),
        "details.behaviours": behaviours or None,
        "details.story": safe(without_self_harm(details.story, content.index.crisis)),
        "details.story_voice": details.story_voice,
        "details.collectors": [safe(c) for c in details.collectors] or None,
        "details.danger": True if details.danger else None,
        "contact.sender": safe(contact.sender),
        "contact.received_on": day(contact.received_on),
        "contact.borrower": safe(contact.borrower),
        "registry.channels": _registry_channels(case, content, lang) or None,
    }
    facts["loan.given"] = True if loan.given() else None
    facts["details.contacts_involved"] = True if contacts_involved(case) else None
    detail_fields = (
        "details.since", "details.contacts_reached", "details.disclosed", "details.reach",
        "details.posted", "details.pattern", "details.behaviours", "details.story_voice",
    )  # fmt: skip
    facts["details.any"] = True if any(facts[f] is not None for f in detail_fields) else None
    return {key: value for key, value in facts.items() if value not in (None, "", [])}


def _pattern(case: Case, content: Content, lang: str, clock: Clock) -> str | None:
    """The collectors' pattern the screenshots show (dialogs/pattern.py), as the user
    confirmed it; None unless confirmed."""
    found = pattern(case) if case.details.pattern_confirmed else None
    if found is None:
        return None

    def part(key: str, **params: Any) -> str:
        return content.text(f"doc.pattern.{key}", lang, params)

    def day(iso: str | None) -> str:
        return clock.day(date.fromisoformat(iso)) if iso else "-"

    if found.first and found.last:
        parts = [part("count_days", count=found.count, first=day(found.first),
                      last=day(found.last), days=found.days, most=found.most,
                      day=day(found.busiest))]  # fmt: skip
    else:
        parts = [part("count", count=found.count)]
    parts.append(part("night", night=found.night))
    if found.collectors:
        parts.append(part("collectors", count=found.collectors))
    if found.contacts:
        parts.append(part("contacts", count=found.contacts))
    return content.text("doc.pattern.join", lang).join(parts)


def contacts_involved(case: Case) -> bool:
    """Whether the user said the collectors reached people other than them."""
    details = case.details
    return bool(
        details.disclosed
        or details.contacts_reached not in (None, "none", "unknown")
        or set(details.behaviours) & set(CONTACTS_INVOLVED)
        or case.speaker == "contact"
    )


def requests(template: str, case: Case) -> list[str]:
    """Return the text keys of what the document asks for; none rests on an unstated fact."""
    third = contacts_involved(case)
    published = case.details.posted or "data_published" in case.details.behaviours
    wanted: dict[str, list[tuple[str, bool]]] = {
        "platform_complaint": [
            ("req.stop_third_parties", third),
            ("req.stop_abuse", True),
            ("req.delete_contacts", third),
            ("req.who_collected", True),
            ("req.discipline", True),
            ("req.answer_writing", True),
        ],
        "regulator_complaint": [
            ("req.order_stop", True),
            ("req.order_delete", third),
            ("req.identify_all", third),
            ("req.identify", not third),
            ("req.sanction", True),
            ("req.inform", True),
        ],
        "association_report": [
            ("req.forward_to_regulator", True),
            ("req.inform", True),
        ],
        "collection_registry_complaint": [
            ("req.identify_agency", True),
            ("req.sanction", True),
            ("req.inform", True),
        ],
        "police_statement": [
            ("req.record", True),
            ("req.identify_people", True),
            ("req.stop_harassment_all", third),
            ("req.stop_harassment", not third),
        ],
        "data_protection_complaint": [
            ("req.dpa_stop_processing", True),
            ("req.dpa_delete", third),
            ("req.dpa_investigate", True),
            ("req.inform", True),
        ],
        "report_center_complaint": [
            ("req.block_numbers", True),
            ("req.remove_content", bool(published)),
            ("req.remit", True),
        ],
        "contact_complaint": [
            ("req.contact_stop", True),
            ("req.contact_delete", True),
            ("req.sanction", True),
        ],
    }
    return [key for key, holds in wanted.get(template, []) if holds]


def _registry_channels(case: Case, content: Content, lang: str) -> list[str]:
    """How the collectors got in touch, as the user said or the evidence shows."""
    found = list(dict.fromkeys(case.details.reach))
    kinds = {item.kind for item in case.evidence}
    if not found and kinds & {EvidenceKind.VOICE, EvidenceKind.AUDIO}:
        found.append("calls")
    if "night_calls" in case.details.behaviours and "calls" not in found:
        found.append("calls")
    return [content.text(f"doc.reach.{r}", lang) for r in found]


def _quotes(case: Case, clock: Clock, safe: Masker) -> list[dict[str, Any]]:
    """The texts forwarded from the collectors, oldest first, verbatim but masked."""
    forwarded = [
        item
        for item in case.evidence
        if item.kind == EvidenceKind.TEXT and item.forward is not None and item.text
    ]
    forwarded.sort(key=lambda i: (_sent_at(i) or i.received_at, i.number))
    quotes = []
    for item in forwarded:
        text = safe(item.text) or ""
        if len(text) > MAX_QUOTE_CHARS:
            text = text[: MAX_QUOTE_CHARS - 1].rstrip() + "…"
        sent = _sent_at(item)
        origin = item.forward
        quotes.append({
            "number": item.number,
            "when": clock.moment(sent) if sent else None,
            "sender": safe(origin.name or origin.username) if origin else None,
            "text": text,
        })  # fmt: skip
    return quotes


def _sent_at(item: EvidenceItem) -> datetime | None:
    return item.forward.date if item.forward and item.forward.date else None


def _chronology(case: Case, clock: Clock, content: Content, lang: str) -> list[dict[str, Any]]:
    """Dated events: what the user said happened when, and forwarded messages' dates."""

    def text(key: str, **params: Any) -> str:
        return content.text(f"doc.event.{key}", lang, params)

    events: list[tuple[datetime, int, str, str, str]] = []

    def add(
        when: date | datetime | None, field: str, what: str, order: int = 0, month: bool = False
    ) -> None:
        if when is None:
            return
        if isinstance(when, datetime):
            moment, shown = when.astimezone(clock.zone), clock.moment(when)
        else:
            moment = datetime(when.year, when.month, when.day, tzinfo=clock.zone)
            shown = clock.month(when) if month else clock.day(when)
        events.append((moment, order, field, shown, what))

    add(case.loan.borrowed_on, "loan.borrowed_on", text("borrowed"))
    add(case.loan.due_on, "loan.due_on", text("due"))
    add(case.details.since_on, "details.since", text("since"), month=case.details.since_month_only)
    add(case.contact.received_on, "contact.received_on", text("received"))
    if case.platform.complained:
        month = case.platform.complained_month_only
        add(case.platform.complained_on, "platform.complained_on", text("complained"), month=month)
    for item in case.evidence:
        sent = _sent_at(item)
        kind = content.text(f"doc.kind.{item.kind.value}", lang)
        add(sent, "evidence.forwarded", text("message", kind=kind, number=item.number), 1)
    if case.details.pattern_confirmed:  # the days read in the screenshots, as confirmed
        for reading in case.readings:
            dated = sorted(m for m in reading.moments if "T" in m)
            if dated:
                first = datetime.fromisoformat(dated[0]).replace(tzinfo=clock.zone)
                add(first, "details.pattern", text("read", number=reading.item), 1)
    events.sort(key=lambda e: (e[0], e[1]))
    return [{"when": shown, "what": what, "field": field} for _, _, field, shown, what in events]


def _evidence_row(
    item: EvidenceItem, content: Content, lang: str, clock: Clock, safe: Masker
) -> dict[str, Any]:
    origin = item.forward
    sent = _sent_at(item)
    caption = item.caption if origin else without_self_harm(item.caption, content.index.crisis)
    return {
        "number": item.number,
        "kind": content.text(f"doc.kind.{item.kind.value}", lang),
        "received": clock.moment(item.received_at),
        "sent": clock.moment(sent) if sent else None,
        "from": safe(origin.name or origin.username) if origin else None,
        "sha256": item.sha256,
        "caption": safe(caption),
    }


def _basis(basis: LegalBasis, lang: str) -> dict[str, Any]:
    return {
        "id": basis.id,
        "law": basis.law.get(lang),
        "article": basis.article.get(lang) if basis.article else None,
        "summary": basis.summary.get(lang),
    }
