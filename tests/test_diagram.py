"""The Mermaid diagram beside the machine is generated from its table and kept in sync."""

from __future__ import annotations

from dialogs.case import State
from dialogs.diagram import flow_document, mermaid
from dialogs.screens import SCREENS
from tests.conftest import REPO


def test_flow_md_is_the_generated_diagram():
    assert (REPO / "dialogs" / "FLOW.md").read_text(encoding="utf-8") == flow_document(), (
        "regenerate with: python -m dialogs.diagram > dialogs/FLOW.md"
    )


def test_every_state_has_a_screen_and_appears_in_the_diagram():
    assert set(SCREENS) == set(State)
    source = mermaid()
    for state in State:
        assert f"        {state.value}\n" in source


def test_every_state_but_the_report_leads_somewhere():
    for state, screen in SCREENS.items():
        assert screen.next or state == State.REPORT
