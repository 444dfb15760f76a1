"""Replies: what the dialog asks an adapter to show.

A reply names a piece of content (a key in ``content/texts``) and its parameters; it never
carries a sentence. The adapter resolves the key in the user's language, escapes the
parameters for its channel and sends. A reply may also ask for a rendered document (a
complaint, the contacts list) to be shown in the chat, sent as a file, or both.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Ref(BaseModel):
    """A parameter that is itself a content key, resolved in the user's language."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str


Param = str | int | Ref
"""Strings and numbers are data (user text included, escaped by the adapter); a Ref is text."""


class Option(BaseModel):
    """One button: the id that comes back in a :class:`~dialogs.events.Choice`, and its label."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    label: str
    """A content key for the label."""
    params: dict[str, Param] = Field(default_factory=dict)


class Render(BaseModel):
    """A document rendered from a template in ``content/templates/<lang>/``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    template: str
    """Template name without extension: "platform_complaint", "contacts"..."""
    case: int
    in_chat: bool = True
    as_file: bool = False
    item: int | None = None
    """For a template that shows one part (a destination's card): which one, from 0."""
    full: bool = False
    """The user asked for the whole text in the chat: long messages are allowed."""


class Reply(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    """A content key; "" for a reply that is only its rendered part (a destination's card)."""
    params: dict[str, Param] = Field(default_factory=dict)
    options: tuple[Option, ...] = ()
    render: Render | None = None
    case: int | None = None
    """The case the options belong to, so that a stale button can be recognised."""
    group: str | None = None
    """Replies with the same group (an album) may be merged by the adapter."""
