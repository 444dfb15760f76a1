"""Privacy end to end: deletion leaves nothing, numbers never leave in full, users are apart,
logs carry no content."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from bot.app import open_core
from bot.content import Content
from bot.core import Core, OutFile, OutText
from bot.render import Renderer
from bot.settings import Settings
from dialogs import Choice, Command, EvidenceKind, EvidenceReceived, Start, StoredFile, Text
from dialogs.steps.report import CONTACT_COMPLAINT, documents
from tests.conftest import REPO, Chat, walk_to

ID_NUMBER = "11010519491231002X"
CARD = "6222 0212 3456 7890 128"
T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr("unused"),
        data_dir=tmp_path / "data",
    )


class User:
    def __init__(self, core: Core, user_id: str) -> None:
        self.core, self.user_id, self.at = core, user_id, T0

    async def do(self, make) -> list:
        self.at += timedelta(seconds=5)
        return await self.core.handle("console", self.user_id, make(self.at))

    async def choose(self, choice: str, case: int | None = 1) -> list:
        return await self.do(lambda at: Choice(at=at, choice=choice, case=case))

    async def attach(self, data: bytes) -> list:
        file = StoredFile(sha256=None, size=len(data), mime="image/png", name="shot.png")

        async def chunks():
            yield data

        return await self.core.handle_file(
            "console", self.user_id, chunks, file,
            lambda stored: EvidenceReceived(at=self.at, kind=EvidenceKind.SCREENSHOT, file=stored),
        )  # fmt: skip

    async def report_case(self, platform: str, secret: str, data: bytes) -> None:
        await self.do(lambda at: Start(at=at, client_lang="en"))
        await self.choose("lang:en")
        await self.choose("jur:cn")
        await self.choose("who:borrower")
        await self.attach(data)
        await self.do(lambda at: Text(at=at, text=f"{secret} pay or else"))
        await self.choose("ev:done")
        await self.do(lambda at: Text(at=at, text=platform))


def _everything_under(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


async def test_delete_all_leaves_nothing_of_the_user_and_keeps_the_others(tmp_path):
    alice_file, bob_file = os.urandom(3000), os.urandom(3000)
    async with open_core(settings(tmp_path)) as core:
        alice, bob = User(core, "alice-7"), User(core, "bob-8")
        await alice.report_case("AlphaLoans", "ALICE-SECRET-NOTE", alice_file)
        await bob.report_case("BetaLoans", "BOB-SECRET-NOTE", bob_file)
        await alice.do(lambda at: Command(at=at, name="delete"))
        await alice.choose("del:all")
        outs = await alice.choose("del:yes")
        assert isinstance(outs[0], OutText) and "Everything of yours is deleted" in outs[0].text
    stored = _everything_under(tmp_path / "data")
    for trace in (b"AlphaLoans", b"ALICE-SECRET-NOTE", b"alice-7", alice_file[:64]):
        assert trace not in stored, trace
    for trace in (b"BetaLoans", b"BOB-SECRET-NOTE", bob_file[:64]):
        assert trace in stored, trace


async def test_deleting_one_case_removes_its_files_but_not_a_file_another_case_uses(tmp_path):
    shared, own = os.urandom(2000), os.urandom(2000)
    async with open_core(settings(tmp_path)) as core:
        carol = User(core, "carol")
        await carol.report_case("GammaLoans", "CASE-ONE", shared)
        await carol.attach(own)
        await carol.do(lambda at: Command(at=at, name="new"))
        await carol.choose("jur:cn", case=2)
        await carol.attach(shared)
        await carol.choose("case:open:1", case=2)
        await carol.do(lambda at: Command(at=at, name="delete"))
        await carol.choose("del:case")
        await carol.choose("del:yes")
    stored = _everything_under(tmp_path / "data")
    assert shared in stored and own not in stored
    assert b"GammaLoans" not in stored and b"CASE-ONE" not in stored


async def test_another_users_case_cannot_be_reached(tmp_path):
    async with open_core(settings(tmp_path)) as core:
        alice, bob = User(core, "alice"), User(core, "bob")
        await bob.report_case("BetaLoans", "BOB-ONLY", os.urandom(100))
        await alice.report_case("AlphaLoans", "ALICE-ONLY", os.urandom(100))
        seen: list = []
        for number in (0, 1, 2, 3, 99, -1):
            seen += await alice.choose(f"case:open:{number}", case=number)
            seen += await alice.choose("rep:doc:platform_complaint", case=number)
            seen += await alice.choose("fu:no:1:0", case=number)
        for command in ("cases", "status", "export", "sent"):
            seen += await alice.do(lambda at, c=command: Command(at=at, name=c))
        texts = [o.text for o in seen if isinstance(o, OutText)]
        texts += [o.data.decode() for o in seen if isinstance(o, OutFile)]
        assert not any("BetaLoans" in t or "BOB-ONLY" in t for t in texts)
        conv = await core.storage.load("console", "bob")
        assert conv is not None and conv.cases[0].platform.name == "BetaLoans"


def test_id_and_card_written_in_step_3_never_leave_in_full():
    content = Content.load()
    chat = Chat(content=content.index)
    walk_to(chat, "details_story")
    chat.send(f"My ID is {ID_NUMBER} and my card {CARD}; they posted them online.")
    walk_to(chat, "report")
    renderer = Renderer(content)
    for lang in ("es", "zh-Hans", "en"):
        for template in [*documents_for(chat), CONTACT_COMPLAINT, "contacts", "evidence_index"]:
            text = renderer.render(template, chat.case, lang, T0)
            assert ID_NUMBER not in text and CARD not in text, template
            assert CARD.replace(" ", "") not in text


def documents_for(chat: Chat) -> list[str]:
    from dialogs.turn import Turn

    return documents(Turn(conv=chat.conv, content=chat.content, at=T0))


def test_a_scripted_run_at_debug_logs_no_content(tmp_path):
    script = "\n".join(
        ["/start", "c", "a", "a", f"/forward pay now {ID_NUMBER} 13912345678", "b",
         "SecretLoansCo", "I don't know", "c", "b", f"my card {CARD} and phone 13800001111", "a"]
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(REPO), LOG_LEVEL="DEBUG")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console"], input=script, capture_output=True,
        text=True, env=env, cwd=tmp_path, timeout=60, check=True,
    )  # fmt: skip
    log = done.stderr
    for secret in (ID_NUMBER, CARD, "13912345678", "13800001111", "SecretLoansCo", "pay now"):
        assert secret not in log
    assert "SecretLoansCo" in done.stdout  # the conversation itself did happen


async def test_the_dossier_never_holds_the_typed_id_or_card_in_full(tmp_path):
    import zipfile

    from pypdf import PdfReader

    from bot.dossier import build_dossier
    from bot.evidence_store import EvidenceStore

    content = Content.load()
    chat = Chat(content=content.index)
    walk_to(chat, "details_story")
    chat.send(f"My ID is {ID_NUMBER} and my card {CARD}; they posted them online.")
    walk_to(chat, "report")
    dossier = await build_dossier(
        chat.case, lang="zh-Hans", store=EvidenceStore(tmp_path / "store"),
        renderer=Renderer(content), content=content, now=T0, out_dir=tmp_path / "out",
    )  # fmt: skip
    texts = [page.extract_text() for page in PdfReader(dossier.pdf_path).pages]
    for path in dossier.zip_paths:
        with zipfile.ZipFile(path) as archive:
            texts += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
    joined = "\n".join(texts)
    assert "**************002X" in joined  # the masked form is there
    assert ID_NUMBER not in joined and CARD not in joined and CARD.replace(" ", "") not in joined


def test_a_reference_or_contract_number_is_not_taken_for_a_phone():
    from dialogs.case import Case
    from dialogs.steps.privacy import findings_for

    case = Case(number=1, jurisdiction="cn", created_at=T0, updated_at=T0)
    case.platform.reference = "REF-20261102-77"
    case.loan.contract = "SDJ-13912345678"
    assert findings_for(case, "CN") == []
    case.loan.contract = "11010519491231002X"  # an ID number typed there is still private
    assert [f.kind for f in findings_for(case, "CN")] == ["resident_id"]


def test_an_id_in_a_forwarded_message_or_a_caption_is_found_and_masked_everywhere():
    from dialogs import EvidenceReceived, StoredFile

    bad_id = "11010519960715239X"  # one wrong check digit: still somebody's ID
    content = Content.load()
    chat = Chat(content=content.index)
    walk_to(chat, "evidence")
    chat.forward(f"你的身份证{ID_NUMBER}我们都有，不还就发到你所有联系人群里")
    chat.event(EvidenceReceived(
        at=T0, kind=EvidenceKind.SCREENSHOT, caption=f"他们发出的身份证 {bad_id}",
        file=StoredFile(sha256="a" * 64, size=10, mime="image/png"),
    ))  # fmt: skip
    walk_to(chat, "privacy_review")
    assert [(f.kind, f.value) for f in chat.case.privacy.findings] == [
        ("resident_id", ID_NUMBER), ("possible_id", bad_id),
    ]  # fmt: skip
    walk_to(chat, "report")
    renderer = Renderer(content)
    for lang in ("es", "zh-Hans", "en"):
        for template in [*documents_for(chat), "evidence_index"]:
            text = renderer.render(template, chat.case, lang, T0)
            assert ID_NUMBER not in text and bad_id not in text, (lang, template)
