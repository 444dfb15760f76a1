"""Which legal bases a document cites: the few its destination enforces, for these facts.

Rules:
- Each document type speaks to one kind of body, and cites only the domains that kind of
  body enforces (:data:`DOCUMENT_DOMAINS`): criminal and public-order law for the police,
  data protection for the data-protection authority, collection-conduct rules for the
  financial regulators and self-regulators, contract, collection and data rules for the lender.
- A basis applies only when its conditions are facts the user stated: the lender's licence
  (an unknown licence satisfies neither condition), the lender's type, the user's region.
- A superseded text is never cited; nor is a basis whose citation would need a caveat
  (``in_documents`` false): the doubt stays in the chat.
- A basis that addresses behaviours is cited only when the user reported one of them (a
  harassed contact reports, by being one, that the collectors messaged a borrower's
  contacts); background law (no behaviours) fills the remaining places.
- At most :data:`MAX_BASES`: the most specific basis of each domain the readers enforce,
  then the most specific of the rest; listed the most specific first (conditional bases,
  then those that address more of the reported behaviours, then in the content's order).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from dialogs.case import Case

MAX_BASES = 4

DOCUMENT_DOMAINS: dict[str, tuple[str, ...]] = {
    "platform_complaint": ("collection", "contract", "data_protection", "consumer"),
    "regulator_complaint": ("collection", "consumer"),
    "association_report": ("collection",),
    "collection_registry_complaint": ("collection",),
    "police_statement": ("criminal", "public_order"),
    "data_protection_complaint": ("data_protection",),
    "report_center_complaint": ("telecom", "online_content", "data_protection"),
    "contact_complaint": ("data_protection", "public_order", "collection"),
}
"""Document type -> the domains of law its readers enforce, the first the most their own."""


class Basis(Protocol):
    @property
    def domains(self) -> tuple[str, ...]: ...
    @property
    def behaviours(self) -> tuple[str, ...]: ...
    @property
    def requires(self) -> tuple[str, ...]: ...
    @property
    def lender_types(self) -> tuple[str, ...]: ...
    @property
    def region(self) -> str | None: ...
    @property
    def current(self) -> bool: ...
    @property
    def in_documents(self) -> bool: ...


B = TypeVar("B", bound=Basis)


def stated_facts(case: Case) -> set[str]:
    """Return the conditions the user's answers establish (never assumed from silence)."""
    facts: set[str] = set()
    if case.platform.licensed in ("licensed", "unlicensed"):
        facts.add(case.platform.licensed)
    return facts


def applies(basis: Basis, case: Case) -> bool:
    """Whether the basis holds for this case's stated facts."""
    if not basis.current or not basis.in_documents:
        return False
    if not set(basis.requires) <= stated_facts(case):
        return False
    if basis.lender_types and case.platform.lender_type not in basis.lender_types:
        return False
    if basis.region is not None and case.region != basis.region:
        return False
    return not basis.behaviours or bool(reported(case) & set(basis.behaviours))


def reported(case: Case) -> set[str]:
    """Return the behaviours the case reports."""
    behaviours = set(case.details.behaviours)
    if case.speaker == "contact":
        behaviours.add("contacts_messaged")
    return behaviours


def bases_for(document: str, case: Case, bases: Sequence[B]) -> list[B]:
    """Return the bases a document of this type cites for the case, at most MAX_BASES."""
    domains = DOCUMENT_DOMAINS.get(document, ())
    behaviours = reported(case)

    def specificity(item: tuple[int, B]) -> tuple[int, int, int, int]:
        index, basis = item
        conditional = bool(basis.requires or basis.lender_types or basis.region)
        domain = min(domains.index(d) for d in basis.domains if d in domains)
        matched = len(behaviours & set(basis.behaviours))
        return (-int(conditional), -matched, domain, index)

    ranked = sorted(
        (
            (index, basis)
            for index, basis in enumerate(bases)
            if set(basis.domains) & set(domains) and applies(basis, case)
        ),
        key=specificity,
    )
    chosen: list[tuple[int, B]] = []
    for domain in domains:  # each domain's best first, so no domain crowds out the others
        best = next((item for item in ranked if domain in item[1].domains), None)
        if best is not None and best not in chosen:
            chosen.append(best)
    chosen += [item for item in ranked if item not in chosen]
    return [basis for _, basis in sorted(chosen[:MAX_BASES], key=specificity)]
