"""Where to complain: the jurisdiction files in ``content/jurisdictions/`` and their loader.

Each ``<id>.toml`` file describes one jurisdiction: the bodies a victim of loan-collection
harassment can turn to, their channels, and the legal bases that apply. Every fact comes
from the facts sheet ``regulators.md``; what the sheet marks UNVERIFIED is never a fact
here, it is listed in an ``unknown`` field instead (see ``content/jurisdictions/README.md``).

Schema (TOML file -> models below)::

    id, checked (date), phone_region, timezone, documents_lang?, emergency[],
    lender_types[], regions[], name{}, note{}?                     -> Jurisdiction
    [[bodies]]  id, native_name, role, scope[], lender_types[], regions[], confidence, sources[],
                deadline_days?, deadline_kind?, deadline_of?, unknown[],
                name{}, handles{}, not_handles{}?, note{}?          -> Body
    [[bodies.channels]]  kind, value?, confidence, sources[]?, note{}?  -> Channel
    [[legal_bases]]  id, kind, domains[], confidence, sources[], behaviours[], requires[],
                     lender_types[], region?, current, in_documents, unknown[],
                     law{}, article{}?, summary{}, note{}?         -> LegalBasis
    [[crisis_lines]]  value, name{}, hours{}?, confidence, sources[]  -> CrisisLine

``{}`` is a localized string: a table keyed by language tag, English required
(:class:`L10n`). ``checked`` is the date the facts were checked; it applies to every entry
of the file. A channel without ``sources`` inherits those of its body, so after loading
every body, channel and legal basis has at least one source.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    model_validator,
)

from dialogs.steps.details import BEHAVIOURS

__all__ = [
    "LANGUAGES",
    "PRIORITY",
    "BasisKind",
    "Behaviour",
    "Body",
    "Channel",
    "ChannelKind",
    "Confidence",
    "CrisisLine",
    "DeadlineKind",
    "DeadlineOf",
    "Domain",
    "Jurisdiction",
    "L10n",
    "LegalBasis",
    "Requirement",
    "Role",
    "Scope",
    "Template",
    "Unknown",
    "load_jurisdictions",
]

LANGUAGES = ("en", "es", "zh-Hans")
"""The languages every localized string must have."""

PRIORITY = ("cn", "mx", "co", "pe", "es")
"""Jurisdictions listed first, in this order; the rest follow alphabetically, generic last."""

GENERIC = "generic"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
LangTag = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]*$")]

Confidence = Literal["seen-official", "seen", "inferred"]
"""seen-official: on the body's own site, a government page or the law text; seen: in a
secondary source; inferred: deduced from the sources. (UNVERIFIED is not a confidence: such
facts are left out and named in ``unknown``.)"""

Role = Literal[
    "financial_regulator",
    "industry_association",
    "central_bank",
    "credit_reference",
    "local_regulator",
    "registry",
    "report_center",
    "telecom_appeal",
    "carrier",
    "content_report",
    "platform",
    "police",
    "police_online",
    "prosecutor",
    "consumer",
    "data_protection",
    "court",
    "support",
]

Scope = Literal[
    "always",
    "licensed",
    "unlicensed",
    "threats",
    "extortion",
    "calls_sms",
    "defamation_online",
    "credit_report",
    "data_misuse",
    "contacts_harassed",
    "fake_legal",
    "carrier_unresponsive",
    "non_financial",
    "emergency",
]

ChannelKind = Literal[
    "phone", "web", "email", "wechat", "app", "chat", "in_person", "post", "social"
]

BasisKind = Literal["statute", "regulation", "guidance", "standard", "self_regulation", "ruling"]


def _known_behaviour(value: str) -> str:
    if value not in BEHAVIOURS:
        raise ValueError(f"unknown behaviour {value!r}; the dialog offers {BEHAVIOURS}")
    return value


Behaviour = Annotated[str, AfterValidator(_known_behaviour)]
"""One of the behaviours the dialog lets the user report (dialogs.steps.details)."""

Domain = Literal[
    "criminal",
    "public_order",
    "data_protection",
    "collection",
    "consumer",
    "contract",
    "telecom",
    "online_content",
]
"""What a legal basis is about; each destination cites the domains its role enforces
(:data:`dialogs.bases.ROLE_DOMAINS`)."""

Requirement = Literal["licensed", "unlicensed"]
"""A fact the user must have stated for a basis to apply (an unknown licence satisfies
neither)."""

DeadlineKind = Literal["working", "business", "calendar"]

Template = Literal[
    "platform_complaint",
    "regulator_complaint",
    "police_statement",
    "data_protection_complaint",
    "collection_registry_complaint",
    "report_center_complaint",
    "association_report",
]
"""The destination templates in ``content/templates/<lang>/``."""

DeadlineOf = Literal["body", "prior_complaint"]

Unknown = Literal[
    "phone",
    "email",
    "web",
    "complaint_form",
    "contact",
    "channel",
    "article",
    "revised_article",
    "year",
    "outcome",
    "rule_details",
]
"""What the sheet says is not verified: the bot says so instead of giving a value."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class L10n(RootModel[dict[LangTag, Text]]):
    """A string per language, as a TOML table keyed by language tag (``en``, ``es``,
    ``zh-Hans``...). English is required: a language added later reads English where its
    translation is missing (the shipped languages are complete, a content test checks)."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="after")
    def _english(self) -> L10n:
        if "en" not in self.root:
            raise ValueError("a localized string needs at least its English text")
        return self

    @property
    def en(self) -> str:
        return self.root["en"]

    def languages(self) -> set[str]:
        """Return the languages this string is written in."""
        return set(self.root)

    def get(self, lang: str) -> str:
        """Return the string in ``lang`` (case-insensitive), else the English one."""
        wanted = lang.replace("_", "-").lower()
        for tag, text in self.root.items():
            if tag.lower() == wanted:
                return text
        return self.root["en"]


class Channel(_Model):
    """One way to reach a body. ``value`` is copied exactly from the sheet (a number, an
    address, an account name); it is absent only when the note says it all (e.g. "at your
    local police station")."""

    kind: ChannelKind
    value: Text | None = None
    confidence: Confidence
    sources: tuple[Text, ...] = Field(min_length=1)
    note: L10n | None = None

    @model_validator(mode="after")
    def _value_or_note(self) -> Channel:
        if self.value is None and self.note is None:
            raise ValueError("a channel needs a value or a note")
        return self


class Body(_Model):
    """A body (regulator, police, reporting centre...) a victim can turn to."""

    id: Id
    native_name: Text
    """The body's name in its own language, as in the sheet."""
    name: L10n
    role: Role
    scope: tuple[Scope, ...] = Field(min_length=1)
    """When this body is relevant (any tag matching the case; "always" always matches)."""
    confidence: Confidence
    sources: tuple[Text, ...] = Field(min_length=1)
    handles: L10n
    not_handles: L10n | None = None
    note: L10n | None = None
    """Caveats to show with the body: steps to take first, whose deadline, limits."""
    deadline_days: int | None = Field(default=None, gt=0)
    deadline_kind: DeadlineKind | None = None
    """Absent when the sheet gives a number of days without saying which kind."""
    deadline_of: DeadlineOf = "body"
    """Who must answer within ``deadline_days``: the body itself, or the party the user must
    complain to first (the carrier before 12300, the bank before the Banco de España)."""
    unknown: tuple[Unknown, ...] = ()
    channels: tuple[Channel, ...] = ()
    lender_types: tuple[Id, ...] = ()
    """The jurisdiction's lender types this body supervises; empty: no such limit. When the
    user named another type, the body is listed under "not for this case"."""
    regions: tuple[Id, ...] = ()
    """The jurisdiction's regions this body serves (a city's police); empty: all of them."""
    template: Template | None = None
    """The complaint this body receives, when it wants something other than the default of
    its role (e.g. REDECO's form asks who collected, by which channel and why)."""

    @model_validator(mode="before")
    @classmethod
    def _inherit_sources(cls, data: Any) -> Any:
        """Give channels without their own ``sources`` those of the body."""
        if isinstance(data, dict) and isinstance(data.get("channels"), list):
            sources = data.get("sources")
            data = dict(data)
            data["channels"] = [
                {**ch, "sources": sources} if isinstance(ch, dict) and "sources" not in ch else ch
                for ch in data["channels"]
            ]
        return data

    @model_validator(mode="after")
    def _deadline(self) -> Body:
        if self.deadline_days is None and (
            self.deadline_kind is not None or self.deadline_of != "body"
        ):
            raise ValueError("deadline_kind or deadline_of without deadline_days")
        return self

    def relevant(self, tags: Iterable[str]) -> bool:
        """Whether this body matters for a case described by these scope tags."""
        return "always" in self.scope or not set(self.scope).isdisjoint(tags)


class LegalBasis(_Model):
    """A law article, regulation, standard, self-regulatory rule or ruling."""

    id: Id
    kind: BasisKind
    confidence: Confidence
    sources: tuple[Text, ...] = Field(min_length=1)
    domains: tuple[Domain, ...] = ()
    """What the basis is about: a destination cites only the domains its role enforces."""
    behaviours: tuple[Behaviour, ...] = ()
    """The reported behaviours this basis addresses (may be empty: background law)."""
    requires: tuple[Requirement, ...] = ()
    """Facts the user must have stated for the basis to apply (all of them)."""
    lender_types: tuple[Id, ...] = ()
    """The basis binds only these lender types (the user must have named one of them)."""
    region: Id | None = None
    """The basis is law only in this region of the jurisdiction (a state, a province)."""
    current: bool = True
    """False for a superseded text (kept for the record; never cited)."""
    in_documents: bool = True
    """False when citing it would need a caveat (the chat may mention it; no letter does)."""
    law: L10n
    article: L10n | None = None
    """Absent when the basis is a whole law or the article number is unknown."""
    summary: L10n
    note: L10n | None = None
    unknown: tuple[Unknown, ...] = ()


class CrisisLine(_Model):
    """A suicide-prevention or psychological-support line, shown with the emergency numbers."""

    value: Text
    name: L10n
    hours: L10n | None = None
    confidence: Confidence
    sources: tuple[Text, ...] = Field(min_length=1)


class Jurisdiction(_Model):
    id: Id
    checked: date
    """The date the facts were checked; applies to every entry of the file."""
    phone_region: str = Field(pattern=r"^([A-Z]{2})?$")
    """Region code for ``phonenumbers`` ("" for the generic jurisdiction)."""
    timezone: Text = "UTC"
    """IANA time zone in which documents give dates and times ("Asia/Shanghai")."""
    documents_lang: Text | None = None
    """The language the bodies here read; None: the user's own language."""
    lender_types: tuple[Id, ...] = ()
    """The lender types the user is asked to choose from (labels in the texts)."""
    regions: tuple[Id, ...] = ()
    """Regions the user is asked about because a rule depends on them (labels in the texts)."""
    crisis_lines: tuple[CrisisLine, ...] = ()
    emergency: tuple[Text, ...] = ()
    name: L10n
    note: L10n | None = None
    """Key caveats for this jurisdiction."""
    bodies: tuple[Body, ...] = ()
    legal_bases: tuple[LegalBasis, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> Jurisdiction:
        for what, ids in (
            ("body", [b.id for b in self.bodies]),
            ("legal basis", [b.id for b in self.legal_bases]),
        ):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate {what} ids: {dupes}")
        return self

    def body(self, body_id: str) -> Body:
        """Return the body with this id (KeyError if none)."""
        for body in self.bodies:
            if body.id == body_id:
                return body
        raise KeyError(body_id)

    def legal_basis(self, basis_id: str) -> LegalBasis:
        """Return the legal basis with this id (KeyError if none)."""
        for basis in self.legal_bases:
            if basis.id == basis_id:
                return basis
        raise KeyError(basis_id)

    def bodies_for(self, tags: Iterable[str]) -> tuple[Body, ...]:
        """The bodies relevant to a case described by these scope tags, in file order."""
        wanted = set(tags)
        return tuple(b for b in self.bodies if b.relevant(wanted))

    def bases_for(self, behaviours: Iterable[str]) -> tuple[LegalBasis, ...]:
        """The legal bases that address any of these behaviours, in file order."""
        wanted = set(behaviours)
        return tuple(b for b in self.legal_bases if not wanted.isdisjoint(b.behaviours))


def _order(jurisdiction_id: str) -> tuple[int, int, str]:
    if jurisdiction_id in PRIORITY:
        return (0, PRIORITY.index(jurisdiction_id), "")
    if jurisdiction_id == GENERIC:
        return (2, 0, "")
    return (1, 0, jurisdiction_id)


def load_jurisdictions(directory: Path) -> dict[str, Jurisdiction]:
    """Load every ``*.toml`` file of ``directory``, keyed by id.

    Ordered: cn, mx, co, pe, es, then the others alphabetically, generic last. Raises
    ``ValueError`` if a file's ``id`` differs from its file name or a file is invalid
    (pydantic's ``ValidationError`` is a ``ValueError``; so is ``tomllib.TOMLDecodeError``).
    """
    found: dict[str, Jurisdiction] = {}
    for path in sorted(Path(directory).glob("*.toml")):
        with path.open("rb") as f:
            data = tomllib.load(f)
        jurisdiction = Jurisdiction.model_validate(data)
        if jurisdiction.id != path.stem:
            raise ValueError(f"{path.name}: id {jurisdiction.id!r} differs from the file name")
        found[jurisdiction.id] = jurisdiction
    return {key: found[key] for key in sorted(found, key=_order)}
