"""The working state of one step of the machine: a copy of the conversation and the replies.

Handlers receive a :class:`Turn`, change its copy of the conversation and add replies. The
caller's conversation is never touched: :func:`dialogs.machine.step` hands out a deep copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from dialogs.case import Case, Conversation, State
from dialogs.content import ContentIndex
from dialogs.replies import Option, Param, Render, Reply


@dataclass
class Turn:
    conv: Conversation
    content: ContentIndex
    at: datetime
    replies: list[Reply] = field(default_factory=list)
    erase_user: bool = False

    @property
    def case(self) -> Case:
        """Return the active case; handlers run only when there is one."""
        case = self.conv.case()
        assert case is not None, "handler called without an active case"
        return case

    def say(
        self,
        key: str,
        options: Sequence[Option] = (),
        *,
        group: str | None = None,
        **params: Param,
    ) -> None:
        """Add a reply naming a content key."""
        case = self.conv.case()
        self.replies.append(
            Reply(
                key=key,
                params=params,
                options=tuple(options),
                case=case.number if case else None,
                group=group,
            )
        )

    def render(
        self,
        key: str,
        template: str,
        *,
        as_file: bool,
        in_chat: bool = True,
        item: int | None = None,
        full: bool = False,
        **params: Param,
    ) -> None:
        """Add a reply that shows a rendered document of the active case."""
        self.replies.append(
            Reply(
                key=key,
                params=params,
                render=Render(
                    template=template, case=self.case.number, in_chat=in_chat,
                    as_file=as_file, item=item, full=full,
                ),
                case=self.case.number,
            )
        )  # fmt: skip

    def new_case(self, state: State) -> Case:
        """Open a new case, make it the active one and return it."""
        case = Case(
            number=self.conv.next_case, state=state, created_at=self.at, updated_at=self.at
        )
        self.conv.next_case += 1
        self.conv.cases.append(case)
        self.conv.active = case.number
        return case


def option(id: str, label: str | None = None, **params: Param) -> Option:
    """Build a button whose label key defaults to ``option.<id with dots>``."""
    return Option(id=id, label=label or "option." + id.replace(":", "."), params=params)
