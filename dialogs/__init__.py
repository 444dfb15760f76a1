"""The conversation core: a pure state machine for the five-step reporting procedure.

Public surface: :func:`step`, the event models, :class:`Reply`, :class:`Conversation` and
:class:`ContentIndex`. Nothing in this package does I/O.
"""

from dialogs.case import Case, Conversation, EvidenceItem, State, Step
from dialogs.content import ContentIndex
from dialogs.events import (
    Choice,
    Command,
    Event,
    EvidenceKind,
    EvidenceRead,
    EvidenceReceived,
    ForwardOrigin,
    Start,
    StoredFile,
    Text,
    Tick,
    Unsupported,
)
from dialogs.machine import Result, step
from dialogs.replies import Option, Ref, Render, Reply

__all__ = [
    "Case",
    "Choice",
    "Command",
    "ContentIndex",
    "Conversation",
    "Event",
    "EvidenceItem",
    "EvidenceKind",
    "EvidenceRead",
    "EvidenceReceived",
    "ForwardOrigin",
    "Option",
    "Ref",
    "Render",
    "Reply",
    "Result",
    "Start",
    "State",
    "Step",
    "StoredFile",
    "Text",
    "Tick",
    "Unsupported",
    "step",
]
