"""The dialog core does no I/O: no channel, storage, template or file module is imported."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

FORBIDDEN = {
    "telegram", "aiosqlite", "sqlite3", "jinja2", "httpx", "aiohttp", "socket", "asyncio",
    "os", "pathlib", "io", "shutil", "subprocess", "tempfile", "logging", "bot", "requests",
}  # fmt: skip
FORBIDDEN_CALLS = {"open", "print", "input", "exec", "eval"}


def _modules() -> list[Path]:
    return sorted((REPO / "dialogs").rglob("*.py"))


def test_dialogs_imports_no_io_module():
    offenders = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [(path.name, n) for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_dialogs_calls_no_io_builtin():
    offenders = []
    for path in _modules():
        if path.name == "diagram.py":  # its __main__ prints the diagram, outside the machine
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            if call and node.func.id in FORBIDDEN_CALLS:  # type: ignore[attr-defined]
                offenders.append((path.name, node.func.id))  # type: ignore[attr-defined]
    assert offenders == []
