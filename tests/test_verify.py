"""The verifier against forged and malformed dossiers, and the signing key (issue 11, item 10).

A dossier is signed with the installation's Ed25519 key: a file replaced and its hash
recomputed in the manifest fails the signature. Anything that cannot be checked at all
(unsupported compression, an encrypted entry, JSON nested 100,000 deep, ``"parts":
Infinity`` or 100000000, a manifest inflating to 1 GiB, a FIFO, a device, a missing file,
not a ZIP...) is one line on stderr and exit status 2: no traceback, no "OK: 0 files".
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from pypdf import PdfReader

from bot import signing, verify
from bot.content import Content
from bot.dossier import Dossier, build_dossier
from bot.evidence_store import EvidenceStore
from bot.render import Renderer
from dialogs import EvidenceKind
from dialogs.case import Case, EvidenceItem, State

CONTENT = Content.load()
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parent.parent
SIGNER = signing.Signer(Ed25519PrivateKey.generate())
MESSAGE = "Paga hoy o publicamos tus fotos."


async def make_dossier(out: Path, signer: signing.Signer | None = SIGNER) -> Dossier:
    store = EvidenceStore(out / "data" / "evidence")
    picture = io.BytesIO()
    Image.new("RGB", (60, 100), (250, 240, 240)).save(picture, format="PNG")
    shot = await store.put_bytes(picture.getvalue())
    pdf = await store.put_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)
    items = [
        EvidenceItem(number=1, kind=EvidenceKind.SCREENSHOT, sha256=shot.sha256,
                     size=shot.size, mime="image/png", received_at=NOW - timedelta(hours=3)),
        EvidenceItem(number=2, kind=EvidenceKind.DOCUMENT, sha256=pdf.sha256, size=pdf.size,
                     mime="application/pdf", received_at=NOW - timedelta(hours=2)),
        EvidenceItem(number=3, kind=EvidenceKind.TEXT, text=MESSAGE,
                     sha256=hashlib.sha256(MESSAGE.encode()).hexdigest(),
                     received_at=NOW - timedelta(hours=1)),
    ]  # fmt: skip
    case = Case(
        number=2, state=State.REPORT, jurisdiction="mx", created_at=NOW - timedelta(days=1),
        updated_at=NOW, evidence=items,
    )  # fmt: skip
    return await build_dossier(
        case, lang="es", store=store, renderer=Renderer(CONTENT), content=CONTENT, now=NOW,
        out_dir=out / "out", signer=signer,
    )  # fmt: skip


@pytest.fixture(scope="module")
def dossier(tmp_path_factory: pytest.TempPathFactory) -> Dossier:
    import asyncio

    return asyncio.run(make_dossier(tmp_path_factory.mktemp("signed")))


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = verify.main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# -- signatures ------------------------------------------------------------------------------


def test_a_signed_dossier_verifies_and_names_its_key(
    dossier: Dossier, capsys: pytest.CaptureFixture[str]
) -> None:
    files = entries(dossier.zip_paths[0])
    assert dossier.manifest["signer"] == SIGNER.describe()
    assert signing.signature_valid(
        SIGNER.public_key, files["manifest.json"], files[signing.SIGNATURE_FILE]
    )
    status, out, err = run([str(dossier.zip_paths[0])], capsys)
    assert (status, err) == (0, "")
    checked = len(files) - 2  # all but manifest.json and manifest.sig
    assert out.splitlines() == [
        f"OK: {checked} files match the manifest",
        f"Signed by the key with fingerprint {SIGNER.fingerprint}",
        "Compare this fingerprint with the one the bot's operator published.",
    ]


def test_the_report_cover_shows_the_fingerprint(dossier: Dossier) -> None:
    cover = PdfReader(dossier.pdf_path).pages[0].extract_text()
    flat = "".join(cover.split())
    assert CONTENT.text("dossier.field_signer", "es").replace(" ", "") in flat
    assert SIGNER.fingerprint.replace(" ", "") in flat


def _replace_and_rehash(dossier: Dossier, target: Path) -> dict[str, object]:
    """Replace the PDF evidence, fix both its hashes in the manifest: a perfect forgery
    but for the signature."""
    files = entries(dossier.zip_paths[0])
    manifest = json.loads(files["manifest.json"])
    item = manifest["items"][1]
    forged = b"%PDF-1.4\nnothing happened\n"
    digest = hashlib.sha256(forged).hexdigest()
    item.update(sha256_original=digest, sha256_exported=digest, size_exported=len(forged))
    files[item["file"]] = forged
    files["manifest.json"] = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()
    write_zip(target, files)
    return manifest


def test_a_replaced_file_with_recomputed_hashes_fails_the_signature(
    dossier: Dossier, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = tmp_path / "forged.zip"
    _replace_and_rehash(dossier, forged)
    status, out, err = run([str(forged)], capsys)
    assert status == 1 and err == ""
    assert out.splitlines() == [
        f"signature: INVALID: manifest.json is not what the key {SIGNER.fingerprint} signed "
        "(changed after signing, or the signature was replaced)"
    ]
    assert "OK" not in out


def test_a_forgery_signed_with_another_key_names_that_key(
    dossier: Dossier, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forger = signing.Signer(Ed25519PrivateKey.generate())
    forged = tmp_path / "forged.zip"
    manifest = _replace_and_rehash(dossier, forged)
    manifest["signer"] = forger.describe()
    files = entries(forged)
    files["manifest.json"] = json.dumps(manifest).encode()
    files[signing.SIGNATURE_FILE] = forger.sign(files["manifest.json"])
    write_zip(forged, files)
    status, out, _ = run([str(forged)], capsys)
    assert status == 0  # valid, but the fingerprint printed is the forger's...
    assert forger.fingerprint in out and SIGNER.fingerprint not in out
    published = tmp_path / "published.pem"
    published.write_text(SIGNER.public_pem())
    status, out, _ = run(["--key", str(published), str(forged)], capsys)
    assert status == 1  # ...and against the published key it fails
    assert out.splitlines()[0] == (
        f"signature: made by the key {forger.fingerprint}, not by the key given "
        f"({SIGNER.fingerprint})"
    )
    status, out, _ = run(["--key", str(published), str(dossier.zip_paths[0])], capsys)
    assert status == 0 and f"the key given with fingerprint {SIGNER.fingerprint}" in out


def test_a_dossier_without_its_signature_fails(
    dossier: Dossier, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = entries(dossier.zip_paths[0])
    del files[signing.SIGNATURE_FILE]
    status, out, _ = run([str(write_zip(tmp_path / "unsigned.zip", files))], capsys)
    assert status == 1
    assert out.splitlines() == [
        "signature: none (manifest.sig missing): anyone could have made it"
    ]


def test_a_signature_of_other_bytes_fails(
    dossier: Dossier, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = entries(dossier.zip_paths[0])
    files["manifest.json"] = files["manifest.json"].replace(b'"es"', b'"en"', 1)
    status, out, _ = run([str(write_zip(tmp_path / "edited.zip", files))], capsys)
    assert status == 1 and out.startswith("signature: INVALID")


# -- the key ---------------------------------------------------------------------------------


def test_the_key_is_made_once_private_and_kept(tmp_path: Path) -> None:
    first = signing.load_or_create(tmp_path / "data")
    path = tmp_path / "data" / signing.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [signing.KEY_FILE]  # no temp file
    assert signing.load_or_create(tmp_path / "data").public_key == first.public_key
    assert re.fullmatch(r"([0-9a-f]{4} ){15}[0-9a-f]{4}", first.fingerprint)


def test_processes_making_the_key_at_once_end_with_the_same_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(pool.map(lambda _: signing.load_or_create(tmp_path), range(16)))
    assert len({signer.public_key for signer in made}) == 1
    assert [p.name for p in tmp_path.iterdir()] == [signing.KEY_FILE]


def test_a_damaged_key_is_an_error_and_is_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / signing.KEY_FILE
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
    with pytest.raises(signing.SigningKeyError):
        signing.load_or_create(tmp_path)
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\ngarbage")


async def test_the_build_signs_with_the_key_of_the_data_directory(tmp_path: Path) -> None:
    built = await make_dossier(tmp_path, signer=None)
    key = signing.load_or_create(tmp_path / "data")  # beside data/evidence: made by the build
    assert built.manifest["signer"]["fingerprint"] == key.fingerprint
    assert verify.check(built.zip_paths).signer == key.fingerprint


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=REPO, capture_output=True, text=True,
        timeout=60, env={**os.environ, **(env or {})}, check=False,
    )  # fmt: skip


def test_python_m_bot_key_prints_the_public_key_to_publish(tmp_path: Path) -> None:
    done = _cli("key", env={"DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    key = signing.load_or_create(tmp_path)
    assert done.stdout == (
        f"{key.public_pem()}Fingerprint (SHA-256 of the public key): {key.fingerprint}\n"
    )
    assert signing.public_key_from_pem(done.stdout.encode()) == key.public_key


# -- malformed input: one line, exit status 2 ------------------------------------------------

_MANIFEST = {
    "format": "harassment-report-bot dossier manifest 2",
    "parts": 1,
    "items": [],
    "documents": [{"file": "README.txt", "sha256": "0" * 64, "size": 1, "part": 1}],
}


def _with_manifest(text: bytes) -> Callable[[Path], Path]:
    return lambda tmp: write_zip(tmp / "dossier.zip", {"manifest.json": text, "README.txt": b"x"})


def _patched(flags: int = 0, method: int | None = None) -> Callable[[Path], Path]:
    """A small ZIP whose headers (local and central) get extra flag bits or another method."""

    def make(tmp: Path) -> Path:
        raw = io.BytesIO()
        with zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("manifest.json", json.dumps(_MANIFEST))
        data = bytearray(raw.getvalue())
        for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            for found in re.finditer(re.escape(signature), data):
                at = found.start() + flag_at
                data[at] |= flags
                if method is not None:
                    data[at + 2 : at + 4] = method.to_bytes(2, "little")
        (tmp / "dossier.zip").write_bytes(data)
        return tmp / "dossier.zip"

    return make


def _inflating_manifest(tmp: Path) -> Path:
    """A valid JSON object of 1 GiB (spaces), deflated to a few MB."""
    path = tmp / "dossier.zip"
    spaces = b" " * (1 << 20)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("manifest.json", "w", force_zip64=True) as entry,
    ):
        entry.write(b"{")
        for _ in range(1024):
            entry.write(spaces)
        entry.write(b"}")
    return path


def _zip64_claims(tmp: Path) -> Path:
    """A ZIP whose ZIP64 end record claims 200,000 entries (zipfile would read them all)."""
    path = _with_manifest(_manifest())(tmp)
    data = path.read_bytes()
    end = data.rfind(b"PK\x05\x06")
    directory = data[end + 12 : end + 20]  # its size and offset, 4 bytes each
    size, offset = (int.from_bytes(directory[n : n + 4], "little") for n in (0, 4))
    record = (
        b"PK\x06\x06" + (44).to_bytes(8, "little") + b"\x2d\x00\x2d\x00" + bytes(8)
        + (200_000).to_bytes(8, "little") * 2 + size.to_bytes(8, "little")
        + offset.to_bytes(8, "little")
    )  # fmt: skip
    locator = b"PK\x06\x07" + bytes(4) + end.to_bytes(8, "little") + (1).to_bytes(4, "little")
    tail = bytearray(data[end:])
    tail[8:12] = b"\xff\xff\xff\xff"  # "see the ZIP64 record"
    path.write_bytes(data[:end] + record + locator + bytes(tail))
    return path


def _file(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / name).write_bytes(data)
        return tmp / name

    return make


def _cut(tmp: Path) -> Path:
    """A ZIP with its first bytes gone: the end record points at the wrong places."""
    path = _with_manifest(_manifest())(tmp)
    path.write_bytes(path.read_bytes()[7:])
    return path


def _manifest(**changes: object) -> bytes:
    return json.dumps(_MANIFEST | changes).encode()


MALFORMED: dict[str, tuple[Callable[[Path], Path], str]] = {
    "unsupported compression": (
        _patched(method=99),
        "manifest.json uses compression method 99; a dossier uses only stored (0) or "
        "deflated (8) entries",
    ),
    "encrypted entry": (
        _patched(flags=0x1),
        "manifest.json is encrypted; the bot never encrypts an entry",
    ),
    "deep JSON": (
        _with_manifest(b"[" * 100_000 + b"]" * 100_000),
        "manifest.json is nested 100000 levels deep; a manifest is at most 32",
    ),
    "parts Infinity": (
        _with_manifest(_manifest().replace(b'"parts": 1', b'"parts": Infinity')),
        "manifest.json is not valid JSON (Infinity is not a JSON number)",
    ),
    "parts 1e400": (
        _with_manifest(_manifest().replace(b'"parts": 1', b'"parts": 1e400')),
        'manifest.json is not a dossier manifest: "parts" must be a whole number from 1 to 1000',
    ),
    "parts 100000000": (
        _with_manifest(_manifest(parts=100_000_000)),
        'manifest.json is not a dossier manifest: "parts" must be a whole number from 1 to 1000',
    ),
    "parts with 5000 digits": (
        _with_manifest(_manifest().replace(b'"parts": 1', b'"parts": ' + b"9" * 5000)),
        "manifest.json is not valid JSON (Exceeds the limit (4300 digits)",
    ),
    "manifest inflating to 1 GiB": (
        _inflating_manifest,
        "manifest.json claims 1073741826 bytes; at most 33554432",
    ),
    "no documents": (
        _with_manifest(_manifest(documents=[])),
        "manifest.json is not a dossier manifest: it lists no documents",
    ),
    "a hash that is no hash": (
        _with_manifest(_manifest(documents=[{"file": "README.txt", "sha256": 5, "part": 1}])),
        'documents[0]: "sha256" must be a SHA-256 in hex',
    ),
    "not an object": (_with_manifest(b"[1, 2]"), "manifest.json is not a JSON object"),
    "no manifest": (
        lambda tmp: write_zip(tmp / "dossier.zip", {"README.txt": b"x"}),
        "no manifest.json in it: not a dossier",
    ),
    "200,000 entries": (_zip64_claims, "200000 entries; a dossier has at most 100000"),
    "not a ZIP": (_file("dossier.zip", b"PK not really"), "dossier.zip: not a ZIP file"),
    "a cut ZIP": (_cut, "dossier.zip: manifest.json is damaged"),
    "missing file": (lambda tmp: tmp / "nowhere.zip", "nowhere.zip: no such file"),
    "a folder": (lambda tmp: tmp, "a folder, not a regular file: refused"),
    "a device": (lambda tmp: Path(os.devnull), "a FIFO, socket or device, not a regular file"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_input_is_one_line_and_exit_status_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, expected = MALFORMED[case]
    status, out, err = run([str(make(tmp_path))], capsys)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and expected in err, err


def test_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "dossier.zip"
    os.mkfifo(fifo)
    done = _cli("verify", str(fifo))  # nobody writes to it: reading it would wait forever
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"{fifo}: a FIFO, socket or device, not a regular file: refused\n"


def test_verify_help_and_usage() -> None:
    done = _cli("verify", "--help")
    assert done.returncode == 0 and "--key" in done.stdout
    assert _cli("verify").returncode == 2


def test_a_name_with_a_line_break_stays_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as archive:
        archive.writestr("evil\nname", b"")
    data = bytearray(raw.getvalue())
    data[6] |= 1  # encrypted, in the local header...
    data[data.rfind(b"PK\x01\x02") + 8] |= 1  # ...and in the central directory
    (tmp_path / "dossier.zip").write_bytes(data)
    status, _, err = run([str(tmp_path / "dossier.zip")], capsys)
    assert status == 2
    message = "evil\\x0aname is encrypted; the bot never encrypts an entry"
    assert err == f"{tmp_path / 'dossier.zip'}: {message}\n"


def test_an_entry_hidden_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dossier.zip"
    with pytest.warns(UserWarning, match="Duplicate name"):
        write_zip(path, {"manifest.json": _manifest()})
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("manifest.json", _manifest(parts=2))
    with pytest.raises(verify.Unreadable, match=r"manifest\.json is in it twice"):
        verify.verify([path])


def test_the_depth_of_json_ignores_brackets_in_strings() -> None:
    assert verify.json_depth(b'{"a": ["[[[[", {"b": "}}}"}]}') == 3
    assert verify.json_depth(b'"no brackets"') == 0
