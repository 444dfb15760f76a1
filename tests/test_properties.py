"""Property tests: random event sequences against the invariants of the dialog.

Whatever a user does, in any order: the dialog never raises, always answers, never loses a
piece of evidence except through a confirmed /delete, only reaches the report after every
earlier step was completed or explicitly skipped, and every reply names a text that exists
with the parameters it needs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.content import Content, placeholders
from dialogs import (
    Choice,
    Command,
    Conversation,
    EvidenceKind,
    EvidenceReceived,
    ForwardOrigin,
    Start,
    State,
    Step,
    StoredFile,
    Text,
    Unsupported,
    step,
)
from dialogs.commands import COMMANDS

CONTENT = Content.load()
INDEX = CONTENT.index
TEXTS = CONTENT.texts["en"]
T0 = datetime(2026, 11, 1, tzinfo=UTC)

texts = st.one_of(
    st.sampled_from(["QuickCash", "2026-10-01", "12", "yes", "   ", "!!!", "{story}", "<b>x</b>"]),
    st.text(max_size=60),
    st.just("我的身份证 11010519491231002X 催收 13912345678"),
)


@st.composite
def actions(draw, offered: list[str]):
    kind = draw(
        st.sampled_from(["text", "choice", "choice", "choice", "command", "evidence", "other"])
    )
    if kind == "text":
        forward = draw(st.booleans()) and ForwardOrigin(kind="hidden_user", name="x")
        return ("text", draw(texts), forward or None)
    if kind == "choice":
        junk = st.sampled_from(["lang:xx", "case:open:99", "del:yes", "rep:platform", "beh:x"])
        choice = draw(st.sampled_from(offered) if offered else junk)
        stale = draw(st.sampled_from([None, 0, 1, 2, 7]))
        return ("choice", choice, stale)
    if kind == "command":
        return ("command", draw(st.sampled_from([*COMMANDS, "start", "nonsense"])))
    if kind == "evidence":
        return (
            "evidence",
            draw(st.sampled_from(list(EvidenceKind))),
            draw(st.integers(0, 5)),
            draw(st.booleans()),
        )
    return ("other",)


def make_event(action: tuple, at: datetime, active: int | None):
    kind = action[0]
    if kind == "text":
        return Text(at=at, text=action[1], forward=action[2])
    if kind == "choice":
        case = active if action[2] is None else action[2]
        return Choice(at=at, choice=action[1], case=case)
    if kind == "command":
        if action[1] == "start":
            return Start(at=at)
        return Command(at=at, name=action[1])
    if kind == "evidence":
        _, evidence_kind, n, too_large = action
        file = StoredFile(
            sha256=None if too_large else f"{n:064x}", size=100 + n, unique_id=f"f{n}",
            too_large=too_large,
        )  # fmt: skip
        return EvidenceReceived(at=at, kind=evidence_kind, file=file)
    return Unsupported(at=at, what="sticker")


def check_reply_texts(result) -> None:
    for reply in result.replies:
        if reply.key == "":  # no text of its own: only the rendered part it carries
            assert reply.render is not None and not reply.options
            continue
        for key, params in [(reply.key, reply.params)] + [
            (o.label, o.params) for o in reply.options
        ]:
            assert key in TEXTS, key
            assert placeholders(TEXTS[key]) <= set(params), (key, params)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_sequences_keep_the_invariants(data):
    conv = Conversation(channel="test", user_id="p")
    at = T0
    offered: list[str] = []
    for _ in range(data.draw(st.integers(1, 60))):
        action = data.draw(actions(offered))
        at += timedelta(seconds=5)
        event = make_event(action, at, conv.active)
        before = {c.number: list(c.evidence) for c in conv.cases}
        result = step(conv, event, INDEX)  # never raises
        assert result.replies, action
        check_reply_texts(result)
        after = result.conversation
        deleted = action[:2] == ("choice", "del:yes")
        for case in after.cases:
            kept = before.get(case.number, [])
            assert case.evidence[: len(kept)] == kept, "evidence changed or disappeared"
            if case.state == State.REPORT:
                assert set(case.done_steps) >= {s for s in Step if s < Step.REPORT}
        if not deleted:
            assert {c.number for c in after.cases} >= set(before), "a case disappeared"
        assert Conversation.model_validate_json(after.model_dump_json()) == after
        conv = after
        offered = [o.id for r in result.replies for o in r.options]
