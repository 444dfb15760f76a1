"""How much of what the screenshots show the reading finds: the real engine over the 60
synthetic screenshots (tests/screenshots.py), then what the dialog keeps of the lines read
(dialogs/steps/reading.py: phones, IDs and cards by dialogs.numbers; amounts and the dates
and times of the messages by dialogs.found).

Printed per kind: how many of the entities drawn were found (recall), and the phone numbers
found that were not drawn (false ones). App names are printed, not required: they are
candidates the user picks from, or types. Required: phones, IDs and cards at least 99%,
amounts and dates at least 95%; no phone number found that was not drawn (a date and time
run together by the reading is no phone). And the victim's own number, given as theirs, is never
proposed as a collector's in any screenshot that shows it.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import pytest

from bot.ocr import Page, _read_in_child, _start_child
from dialogs import EvidenceRead
from dialogs.steps.reading import read_item
from tests.conftest import Chat, walk_to
from tests.screenshots import REGIONS, Shot, screenshot_set
from tests.test_whose_number import chat_in

REQUIRED = {"phone": 0.99, "resident_id": 0.99, "curp": 0.99, "card": 0.99,
            "amount": 0.95, "date": 0.95}  # fmt: skip
JURISDICTIONS = {"es": "mx", "zh-Hans": "cn"}
"""The jurisdictions of the screenshots' countries (the United States has none of its own)."""


def _compact(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())


@pytest.fixture(scope="module")
def read() -> list[tuple[Shot, Page]]:
    shots = screenshot_set(0)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context, initializer=_start_child) as pool:
        pages = list(pool.map(_read_in_child, [shot.data for shot in shots]))
    return list(zip(shots, pages, strict=True))


def found_in(shot: Shot, page: Page) -> dict[str, set[str]]:
    """What the case keeps of the picture (the dialog's own reading of the lines)."""
    kept = read_item(1, [line.text for line in page.lines], REGIONS[shot.lang])
    sensitive = {_compact(value) for _, value in kept.private}
    return {
        "phone": {"+" + _compact(number) for number, _ in kept.phones},
        "resident_id": sensitive,
        "curp": sensitive,
        "card": sensitive,
        "amount": set(kept.amounts),
        "date": {moment[:10] for moment in kept.moments if len(moment) >= 10},
        "time": {moment[-5:] for moment in kept.moments if ":" in moment},
        "app": set(kept.apps),
    }


def test_recall_of_what_the_screenshots_show(read: list[tuple[Shot, Page]]) -> None:
    drawn: Counter[str] = Counter()
    hit: Counter[str] = Counter()
    false_phones = clocks = 0
    missed: list[str] = []
    for shot, page in read:
        found = found_in(shot, page)
        phones = set()
        for entity in shot.entities:
            if entity.kind == "time" and entity.box[3] < shot.height * 0.04:
                clocks += 1  # the phone's clock in the status bar: left out on purpose
                continue
            numbers = entity.kind in ("resident_id", "curp", "card")
            value = _compact(entity.value) if numbers else entity.value
            drawn[entity.kind] += 1
            if value in found[entity.kind]:
                hit[entity.kind] += 1
            elif entity.kind != "app":
                missed.append(f"{shot.name}: {entity.kind} {entity.text!r}")
            if entity.kind == "phone":
                phones.add(value)
        false_phones += len(found["phone"] - phones)
        missed += [f"{shot.name}: not drawn: {n}" for n in sorted(found["phone"] - phones)]
    print()
    print(f"{'kind':12} {'drawn':>6} {'found':>6} {'recall':>7}")
    for kind in sorted(drawn):
        print(f"{kind:12} {drawn[kind]:6d} {hit[kind]:6d} {hit[kind] / drawn[kind]:7.1%}")
    print(f"phone numbers found that were not drawn: {false_phones}")
    print(f"status-bar clocks, not message times, left out: {clocks}")
    for line in missed[:40]:
        print("  missed", line)
    for kind, least in REQUIRED.items():
        assert hit[kind] / drawn[kind] >= least, (kind, hit[kind], drawn[kind])
    assert false_phones == 0


def test_the_victims_own_number_is_never_proposed_as_a_collectors(
    read: list[tuple[Shot, Page]],
) -> None:
    checked = 0
    for shot, page in read:
        own = [e for e in shot.entities if e.kind == "phone" and e.owner == "victim"]
        if not own or shot.lang not in JURISDICTIONS:
            continue
        chat: Chat = chat_in(JURISDICTIONS[shot.lang], "en")
        chat.attach()
        at = chat._at()
        chat.event(EvidenceRead(**at, case=1, item=1, lines=[ln.text for ln in page.lines]))
        walk_to(chat, "loan")
        chat.click("loan:account")
        chat.send(own[0].text)  # the account at the app: the user's own number
        walk_to(chat, "details_collectors")
        mine = _compact(own[0].value)
        while chat.replies and chat.replies[0].key in (
            "numbers.ask_whose",
            "numbers.ask_whose_all",
        ):
            reply = chat.replies[0]
            number = _compact(str(reply.params["number"]))
            if number == mine:  # asked alone, as the user's own
                assert reply.key == "numbers.ask_whose"
                assert str(reply.params["hint"].key).endswith(".mine")
                chat.click(f"col:mine:{number}")
            else:
                assert mine not in _compact(str(reply.params.get("found", ""))), shot.name
                chat.click(next(o for o in chat.options if o.startswith("col:collector:")
                                or o == "col:confirm_all"))  # fmt: skip
        assert not any(_compact(c) == mine for c in chat.case.details.collectors), shot.name
        checked += 1
    print(f"\nscreenshots showing the victim's own number: {checked}")
    assert checked >= 5


def test_the_collectors_pattern_of_a_case(read: list[tuple[Shot, Page]]) -> None:
    """Six Chinese chat screenshots in one case: the pattern counted from what was read is
    the one drawn (each message time under the date above it, as the chat shows them)."""
    from dialogs.pattern import pattern

    chosen = [(s, p) for s, p in read if s.lang == "zh-Hans" and s.style != "calllog"][:6]
    chat: Chat = chat_in("cn", "zh-Hans")
    drawn: set[str] = set()
    for number, (shot, page) in enumerate(chosen, start=1):
        chat.attach()
        at = chat._at()
        lines = [line.text for line in page.lines]
        chat.event(EvidenceRead(**at, case=1, item=number, lines=lines))
        current = None
        for entity in sorted(shot.entities, key=lambda e: (e.box[1], e.box[0])):
            if entity.kind == "date":
                current = entity.value
            elif entity.kind == "time" and entity.box[3] >= shot.height * 0.04:
                drawn.add(f"{current}T{entity.value}" if current else entity.value)
    found = pattern(chat.case)
    assert found is not None
    assert found.count == len(drawn)
    night = sum(1 for m in drawn if int(m[-5:-3]) >= 22 or int(m[-5:-3]) < 8)
    assert found.night == night
    days = sorted({m[:10] for m in drawn if "T" in m})
    assert (found.first, found.last, found.days) == (days[0], days[-1], len(days))
    print(f"\nthe collectors' pattern of {len(chosen)} screenshots: {found}")
