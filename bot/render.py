"""Documents rendered from the case: complaints, the contacts list, the evidence index.

One Jinja environment, built once, with StrictUndefined (a missing field is an error, not a
blank) and no autoescaping (the outputs are plain text; the chat adapter escapes them for
its markup). Templates live in ``content/templates/<lang>/<name>.txt.j2``. User text only
ever enters as data in the context, masked where it holds sensitive numbers; it is never
compiled as a template.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

import jinja2

from bot.content import Content
from bot.documents import DOCUMENTS, document_context, document_lang
from bot.jurisdictions import Body, Jurisdiction
from dialogs.case import Case, EvidenceItem, Finding
from dialogs.numbers import mask_text
from dialogs.router import FOR_CONTACTS, PLATFORM, Destination, case_tags, route
from dialogs.steps.privacy import findings_for

CHAT_TEMPLATES = ("card", "others", "contacts", "crisis", "evidence_index")
"""Chat texts shared by every language (``content/templates/chat/``), worded in the texts."""


class Renderer:
    def __init__(self, content: Content) -> None:
        self.content = content
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(content.directory / "templates"),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(
        self,
        template: str,
        case: Case,
        lang: str,
        now: datetime,
        *,
        item: int | None = None,
        user_lang: str | None = None,
        trace: bool = False,
    ) -> str:
        """Render a document of the case in the given language.

        ``item`` picks one part (a destination's card); ``user_lang`` is the language the
        user writes in (a document in another language says so of their own words);
        ``trace`` marks every fact clause with the field it rests on (for tests)."""
        if template in DOCUMENTS:
            return self.env.get_template(f"documents/{template}.txt.j2").render(
                self.document_context(template, case, lang, now, user_lang=user_lang, trace=trace)
            )
        context = self.context(case, lang, now)
        if template in CHAT_TEMPLATES:
            context["item"] = item
            # a body's name in its own language helps when the user reads another one
            context["show_native"] = self.document_lang(case, lang) != lang
            context["t"] = lambda key, **params: self.content.text(key, lang, params)
            return self.env.get_template(f"chat/{template}.txt.j2").render(context)
        return self.env.get_template(f"{lang}/{template}.txt.j2").render(context)

    def document_lang(self, case: Case, user_lang: str) -> str:
        """Return the language a document of the case is written in for its readers."""
        return document_lang(self.content, case, user_lang)

    def document_context(
        self,
        template: str,
        case: Case,
        lang: str,
        now: datetime,
        *,
        user_lang: str | None = None,
        trace: bool = False,
    ) -> dict[str, Any]:
        """Build the context of a document: only the facts the user stated, masked."""
        jurisdiction = self.content.jurisdictions[case.jurisdiction or "generic"]
        safe = _Masker(findings_for(case, jurisdiction.phone_region))
        victim = {
            "name": _display_name(case.privacy.name, case.privacy.name_mode),
            "contact": case.privacy.contact,
        }
        return document_context(
            self.content, case, template, lang, now, safe, victim,
            user_lang=user_lang, trace=trace,
        )  # fmt: skip

    def context(self, case: Case, lang: str, now: datetime) -> dict[str, Any]:
        """Build the template context: the case's facts, masked, and its jurisdiction."""
        jurisdiction = self.content.jurisdictions[case.jurisdiction or "generic"]
        findings = findings_for(case, jurisdiction.phone_region)
        safe = _Masker(findings)
        label = _Labels(self.content, lang)
        bodies = self.content.index.bodies.get(jurisdiction.id, ())
        destinations = route(case, bodies, now.date())
        tags = case_tags(case, now.date())
        return {
            "lang": lang,
            "today": now.date().isoformat(),
            "case": {"number": case.number, "opened": case.created_at.date().isoformat()},
            "victim": {
                "name": _display_name(case.privacy.name, case.privacy.name_mode),
                "contact": case.privacy.contact,
            },
            "platform": {
                "name": safe(case.platform.name),
                "operator": safe(case.platform.operator),
                "complained": case.platform.complained,
                "when": safe(case.platform.complained_when),
                "channel": label.option("chan", case.platform.channel),
                "reference": safe(case.platform.reference),
                "outcome": label.option("out", case.platform.outcome),
            },
            "details": {
                "story": safe(case.details.story),
                "story_voice": case.details.story_voice,
                "since": safe(case.details.since),
                "contacts_reached": _contacts_reached(label, case.details.contacts_reached),
                "behaviours": [label.behaviour(b) for b in case.details.behaviours],
                "collectors": list(case.details.collectors),
            },
            "evidence": [_evidence_row(item, label, safe) for item in case.evidence],
            "jurisdiction": _jurisdiction(jurisdiction, lang),
            "destinations": _destinations(destinations, jurisdiction, label, case.speaker),
            "support": [_body(b, label) for b in jurisdiction.bodies if b.role == "support"],
            "others": [
                {**_body(b, label), "for_borrower": b.role not in FOR_CONTACTS}
                for b in jurisdiction.bodies
                if b.role not in ("platform", "support")
                and "emergency" not in b.scope  # emergency lines are never "not for you"
                and b.id not in {d.body for d in destinations}
            ],
            "contact_speaker": case.speaker == "contact",
            "threats": bool(tags & {"threats", "extortion", "emergency"}),
        }


class _Masker:
    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings

    def __call__(self, text: str | None) -> str | None:
        return mask_text(text, self.findings) if text else text


class _Labels:
    def __init__(self, content: Content, lang: str) -> None:
        self.content = content
        self.lang = lang

    def text(self, key: str) -> str:
        return self.content.text(key, self.lang)

    def option(self, group: str, value: str | None) -> str | None:
        return self.text(f"option.{group}.{value}") if value else None

    def behaviour(self, value: str) -> str:
        return self.content.text(f"behaviour.{value}", self.lang, {"mark": ""})


def _contacts_reached(label: _Labels, value: str | None) -> str | None:
    if value is None or value.isdecimal():
        return value
    return label.option("cnt", value)


def _evidence_row(item: EvidenceItem, label: _Labels, safe: _Masker) -> dict[str, Any]:
    origin = item.forward
    return {
        "number": item.number,
        "kind": label.text(f"kind.{item.kind.value}"),
        "received": item.received_at.strftime("%Y-%m-%d %H:%M UTC"),
        "sha256": item.sha256,
        "size": item.size,
        "mime": item.mime,
        "too_large": item.too_large,
        "caption": safe(item.caption),
        "from": (origin.name or origin.username) if origin else None,
        "sent": origin.date.strftime("%Y-%m-%d %H:%M UTC") if origin and origin.date else None,
    }


def _jurisdiction(jurisdiction: Jurisdiction, lang: str) -> dict[str, Any]:
    return {
        "id": jurisdiction.id,
        "name": jurisdiction.name.get(lang),
        "checked": jurisdiction.checked.isoformat(),
        "emergency": list(jurisdiction.emergency),
        "crisis_lines": [
            {
                "name": line.name.get(lang),
                "value": line.value,
                "hours": line.hours.get(lang) if line.hours else None,
            }
            for line in jurisdiction.crisis_lines
        ],
        "note": jurisdiction.note.get(lang) if jurisdiction.note else None,
    }


def _destinations(
    destinations: list[Destination],
    jurisdiction: Jurisdiction,
    label: _Labels,
    speaker: str | None = None,
) -> list[dict[str, Any]]:
    rows = []
    for number, destination in enumerate(destinations, 1):
        body = (
            None
            if destination.body == PLATFORM
            else _body(jurisdiction.body(destination.body), label)
        )
        rows.append({
            "number": number,
            "platform": body is None,
            "body": body,
            "reason": label.text(f"reason.{destination.reason}"),
            "template": destination.template,
            "document": _document_label(destination, speaker, label),
            "deadline": _deadline(destination, label),
        })  # fmt: skip
    return rows


def _document_label(destination: Destination, speaker: str | None, label: _Labels) -> str | None:
    if speaker == "contact":
        return label.text("card.own_complaint")
    if destination.template is None:
        return None
    return label.text(f"option.rep.doc.{destination.template}")


def _deadline(destination: Destination, label: _Labels) -> str | None:
    if destination.deadline_days is None:
        return None
    key = "deadline_prior" if destination.deadline_of == "prior_complaint" else "deadline"
    kind = label.text(f"deadline.{destination.deadline_kind or 'none'}")
    return label.content.text(
        f"destination.{key}", label.lang, {"days": destination.deadline_days, "kind": kind}
    )


def _body(body: Body, label: _Labels) -> dict[str, Any]:
    lang = label.lang
    return {
        "name": body.name.get(lang),
        "native_name": body.native_name,
        "handles": body.handles.get(lang),
        "not_handles": body.not_handles.get(lang) if body.not_handles else None,
        "note": body.note.get(lang) if body.note else None,
        "deadline_days": body.deadline_days,
        "deadline_kind": label.text(f"deadline.{body.deadline_kind or 'none'}"),
        "unknown": [label.text(f"unknown.{u}") for u in body.unknown],
        "confidence": label.text(f"confidence.{body.confidence}"),
        "sources": list(body.sources),
        "channels": [
            {
                "kind": label.text(f"channel.{ch.kind}"),
                "value": ch.value,
                "note": ch.note.get(lang) if ch.note else None,
            }
            for ch in body.channels
        ],
    }


def _display_name(name: str | None, mode: str | None) -> str | None:
    if not name or mode in (None, "none"):
        return None
    if mode == "full":
        return name
    if any(unicodedata.category(ch) == "Lo" for ch in name):
        return name[0] + "某"
    return " ".join(part[0].upper() + "." for part in re.split(r"\s+", name) if part)


def split_message(text: str, limit: int = 4000) -> list[str]:
    """Split a long text into chunks of at most ``limit`` UTF-16 units, at line breaks."""
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while _units(line) > limit:
            cut = _cut(line, limit)
            chunks, current = _flush(chunks, current)
            chunks.append(line[:cut])
            line = line[cut:]
        if _units(current) + _units(line) > limit:
            chunks, current = _flush(chunks, current)
        current += line
    chunks, _ = _flush(chunks, current)
    return chunks or [""]


def _flush(chunks: list[str], current: str) -> tuple[list[str], str]:
    if current.strip():
        chunks.append(current.rstrip("\n"))
    return chunks, ""


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(line: str, limit: int) -> int:
    """Return how many characters of ``line`` fit in ``limit`` UTF-16 units."""
    units = 0
    for index, ch in enumerate(line):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return index
    return len(line)
