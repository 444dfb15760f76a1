"""Shared test helpers: a chat client that speaks in user terms to the pure dialog."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.content import Content
from dialogs import (
    Choice,
    Command,
    ContentIndex,
    Conversation,
    Event,
    EvidenceKind,
    EvidenceReceived,
    ForwardOrigin,
    Reply,
    Start,
    StoredFile,
    Text,
    Unsupported,
    step,
)

# python-telegram-bot 22 warns (an error under our warning filter) when a duration or a
# retry_after is read as a number; this opts in to the timedelta values of its next version.
os.environ.setdefault("PTB_TIMEDELTA", "1")

REPO = Path(__file__).resolve().parent.parent
CONTENT = ContentIndex(
    languages=("es", "zh-Hans", "en"),
    jurisdictions=("cn", "mx", "generic"),
    phone_regions={"cn": "CN", "mx": "MX", "generic": ""},
    bodies={j: Content.load().index.bodies[j] for j in ("cn", "mx", "generic")},
)


def _clock() -> Iterator[datetime]:
    moment = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    while True:
        yield moment
        moment += timedelta(seconds=7)


class Chat:
    """Drive the dialog as a user would: send text, click buttons, forward evidence."""

    def __init__(self, content: ContentIndex = CONTENT, client_lang: str | None = "en") -> None:
        self.content = content
        self.client_lang = client_lang
        self.conv = Conversation(channel="test", user_id="u1")
        self.replies: tuple[Reply, ...] = ()
        self.clock = _clock()
        self.files = 0

    def event(self, event: Event) -> list[str]:
        result = step(self.conv, event, self.content)
        self.conv = result.conversation
        self.replies = result.replies
        self.last_result = result
        return self.keys

    @property
    def keys(self) -> list[str]:
        return [r.key for r in self.replies]

    @property
    def options(self) -> list[str]:
        return [o.id for r in self.replies for o in r.options]

    @property
    def state(self) -> str | None:
        case = self.conv.case()
        return case.state.value if case else None

    @property
    def case(self):
        case = self.conv.case()
        assert case is not None
        return case

    def _at(self) -> dict:
        return {"at": next(self.clock), "client_lang": self.client_lang}

    def send(self, text: str) -> list[str]:
        if text == "/start" or text.startswith("/start "):
            return self.event(Start(**self._at(), payload=text[7:] or None))
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            return self.event(Command(**self._at(), name=name, args=args))
        return self.event(Text(**self._at(), text=text))

    def click(self, option_id: str, case: int | None = None) -> list[str]:
        assert option_id in self.options or case is not None, (option_id, self.options)
        number = case if case is not None else (self.conv.active)
        return self.event(Choice(**self._at(), choice=option_id, case=number))

    def press(self, option_id: str, case: int | None = None) -> list[str]:
        """Send a button press without checking it is on screen (stale buttons)."""
        return self.event(Choice(**self._at(), choice=option_id, case=case))

    def forward(self, text: str, sender: str = "催收员") -> list[str]:
        origin = ForwardOrigin(
            kind="hidden_user", name=sender, date=datetime(2026, 10, 1, tzinfo=UTC)
        )
        return self.event(Text(**self._at(), text=text, forward=origin))

    def attach(
        self,
        kind: EvidenceKind = EvidenceKind.SCREENSHOT,
        *,
        sha256: str | None = None,
        size: int = 1000,
        too_large: bool = False,
        album: str | None = None,
        unique_id: str | None = None,
    ) -> list[str]:
        self.files += 1
        digest = sha256 or f"{self.files:064x}"
        file = StoredFile(
            sha256=None if too_large else digest,
            size=size,
            mime="image/png",
            unique_id=unique_id or f"u{self.files}",
            too_large=too_large,
        )
        return self.event(EvidenceReceived(**self._at(), kind=kind, file=file, album_id=album))

    def unsupported(self, what: str = "sticker") -> list[str]:
        return self.event(Unsupported(**self._at(), what=what))


def walk_to(chat: Chat, state: str) -> None:
    """Walk a chat along the borrower's happy path, from where it is, until it reaches
    ``state``. Questions asked only in some cases (the region, the lender type, danger now)
    are answered when they come; the region and the lender type are skipped."""

    def pick(option_id: str) -> list[str]:
        return chat.press(option_id, case=chat.conv.active)

    answers = {
        None: lambda: chat.send("/start"),
        "language": lambda: pick("lang:en"),
        "jurisdiction": lambda: pick("jur:cn"),
        "region": lambda: chat.send("/skip"),
        "speaker": lambda: pick("who:borrower"),
        "evidence": lambda: pick("ev:done"),
        "platform_name": lambda: chat.send("QuickCash"),
        "platform_operator": lambda: chat.send("Fast Money Tech Ltd"),
        "platform_lender_type": lambda: chat.send("/skip"),
        "platform_licensed": lambda: pick("lic:licensed"),
        "platform_complained": lambda: pick("plat:yes"),
        "platform_when": lambda: chat.send("2026-10-20"),
        "platform_when_confirm": lambda: pick("when:yes"),
        "platform_channel": lambda: pick("chan:in_app"),
        "platform_reference": lambda: chat.send("T-12345"),
        "platform_outcome": lambda: pick("out:no_answer"),
        "loan": lambda: pick("loan:done"),
        "details_story": lambda: (chat.send("They message my family"), pick("det:story_done")),
        "details_since": lambda: chat.send("October 2026"),
        "details_contacts": lambda: pick("cnt:many"),
        "details_behaviours": lambda: pick("beh:done"),
        "details_danger": lambda: pick("dng:no"),
        "details_reach": lambda: pick("reach:done"),
        "details_disclosed": lambda: pick("disc:unknown"),
        "details_posted": lambda: pick("post:unknown"),
        "details_collectors": lambda: pick("col:done"),
        "privacy_review": lambda: pick("prv:ok"),
        "privacy_name_mode": lambda: pick("name:full"),
        "privacy_name": lambda: chat.send("Li Wei"),
        "privacy_contact": lambda: pick("prv:no_contact"),
        "privacy_warning": lambda: pick("prv:understood"),
    }
    for _ in range(len(answers) + 1):
        if chat.state == state:
            return
        here = chat.state
        assert here in answers, (here, state, "not on the borrower's path")
        answers[here]()
        assert chat.state != here, (here, chat.keys)
    raise AssertionError(f"{state} not reached; stopped at {chat.state}")


@pytest.fixture
def chat() -> Chat:
    return Chat()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """A PostgreSQL server for the session (see tests/postgres.py), started on first use."""
    from tests.postgres import OwnServer, PostgresServer

    if os.environ.get("TEST_POSTGRES") == "off":
        pytest.skip("TEST_POSTGRES=off")
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield OwnServer(url)
        return
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[object]:
    """An S3-compatible server for the session (moto's, on 127.0.0.1; see tests/s3.py)."""
    from tests.s3 import S3Server

    server = S3Server()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """The URL of a new, empty PostgreSQL database of this test's own."""
    return postgres_server.new_database()
