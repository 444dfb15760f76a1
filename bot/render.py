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
from bot.jurisdictions import Body, Jurisdiction, LegalBasis
from dialogs.case import Case, EvidenceItem, Finding
from dialogs.numbers import mask_text
from dialogs.router import PLATFORM, Destination, case_tags, route
from dialogs.steps.privacy import findings_for


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

    def render(self, template: str, case: Case, lang: str, now: datetime) -> str:
        """Render a document of the case in the given language."""
        context = self.context(case, lang, now)
        return self.env.get_template(f"{lang}/{template}.txt.j2").render(context)

    def context(self, case: Case, lang: str, now: datetime) -> dict[str, Any]:
        """Build the template context: the case's facts, masked, and its jurisdiction."""
        jurisdiction = self.content.jurisdictions[case.jurisdiction or "generic"]
        findings = findings_for(case, jurisdiction.phone_region)
        safe = _Masker(findings)
        label = _Labels(self.content, lang)
        destinations = route(case, self.content.index.bodies.get(jurisdiction.id, ()))
        tags = case_tags(case)
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
            "timeline": _timeline(case, label, safe),
            "channels": list(
                dict.fromkeys(label.text(f"kind.{i.kind.value}") for i in case.evidence)
            ),
            "jurisdiction": _jurisdiction(jurisdiction, lang),
            "destinations": _destinations(destinations, jurisdiction, label),
            "support": [_body(b, label) for b in jurisdiction.bodies if b.role == "support"],
            "others": [
                _body(b, label)
                for b in jurisdiction.bodies
                if b.role != "platform" and b.id not in {d.body for d in destinations}
            ],
            "bases": [_basis(b, lang) for b in cited_bases(jurisdiction, case)],
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


def _channels(case: Case) -> list[str]:
    """Return how the collectors got in touch, as far as the evidence and answers show."""
    kinds = {item.kind.value for item in case.evidence}
    behaviours = set(case.details.behaviours)
    found = []
    if kinds & {"voice", "audio"} or "night_calls" in behaviours:
        found.append("calls")
    if kinds & {"screenshot", "text", "contact"} or "contacts_messaged" in behaviours:
        found.append("messages")
    if "data_published" in behaviours or "defamation" in behaviours:
        found.append("posts")
    return found


def _timeline(case: Case, label: _Labels, safe: _Masker) -> list[dict[str, Any]]:
    """Return the evidence in the order things happened (original send date if forwarded)."""

    def when(item: EvidenceItem) -> datetime:
        return item.forward.date if item.forward and item.forward.date else item.received_at

    rows = []
    for item in sorted(case.evidence, key=lambda i: (when(i), i.number)):
        row = _evidence_row(item, label, safe)
        row["when"] = when(item).strftime("%Y-%m-%d %H:%M UTC")
        rows.append(row)
    return rows


def _jurisdiction(jurisdiction: Jurisdiction, lang: str) -> dict[str, Any]:
    return {
        "id": jurisdiction.id,
        "name": jurisdiction.name.get(lang),
        "checked": jurisdiction.checked.isoformat(),
        "emergency": list(jurisdiction.emergency),
        "note": jurisdiction.note.get(lang) if jurisdiction.note else None,
    }


def _destinations(
    destinations: list[Destination], jurisdiction: Jurisdiction, label: _Labels
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
            "deadline": _deadline(destination, label),
        })  # fmt: skip
    return rows


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


def cited_bases(jurisdiction: Jurisdiction, case: Case) -> tuple[LegalBasis, ...]:
    """Return the legal bases a complaint cites: those that address the reported behaviours,
    or, when none was reported, the background law of the jurisdiction."""
    cited = jurisdiction.bases_for(case.details.behaviours)
    return cited or tuple(b for b in jurisdiction.legal_bases if not b.behaviours)


def _basis(basis: LegalBasis, lang: str) -> dict[str, Any]:
    return {
        "law": basis.law.get(lang),
        "article": basis.article.get(lang) if basis.article else None,
        "summary": basis.summary.get(lang),
        "note": basis.note.get(lang) if basis.note else None,
        "confidence": basis.confidence,
        "sources": list(basis.sources),
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
