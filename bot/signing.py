"""The installation's signing key, and the signature of a dossier's manifest.

Each installation has one Ed25519 key pair, made the first time it is needed and kept in
``DATA_DIR/signing-key.pem`` (PKCS#8, readable by the owner only; the public key is derived
from it). Every dossier's ``manifest.json`` is signed with it: ``manifest.sig`` beside it in
the ZIP holds the 64-byte detached signature over the manifest's exact bytes, and the
manifest names the public key (``signer``). ``python -m bot key`` prints the public key and
its fingerprint for the operator to publish.

A valid signature proves that the installation holding the key made this manifest and that
neither the manifest nor, through its SHA-256 fingerprints, any file it lists has changed
since. It does not prove that what the evidence shows is true, and it says who signed only
to someone who knows the operator's published key: anyone can make a key of their own and
sign a forged dossier with it, so the fingerprint must be compared with the published one.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

KEY_FILE: Final = "signing-key.pem"
SIGNATURE_FILE: Final = "manifest.sig"
ALGORITHM: Final = "Ed25519"
SIGNATURE_BYTES: Final = 64
PUBLIC_KEY_BYTES: Final = 32
_MAX_KEY_FILE: Final = 64 * 1024

log = logging.getLogger(__name__)


class SigningKeyError(RuntimeError):
    """The key file exists but is not an Ed25519 private key: it is never replaced silently,
    since a new key would make the installation's published fingerprint worthless."""


@dataclass(frozen=True, slots=True)
class Signer:
    """The installation's private key, and what is shown of its public half."""

    key: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key."""
        return self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def public_pem(self) -> str:
        """Return the public key as PEM (SubjectPublicKeyInfo), for publishing."""
        pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem.decode("ascii")

    def describe(self) -> dict[str, str]:
        """Return the manifest's ``signer`` entry."""
        return {
            "algorithm": ALGORITHM,
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
            "fingerprint": self.fingerprint,
        }

    def sign(self, data: bytes) -> bytes:
        """Return the detached signature of ``data`` (64 bytes)."""
        return self.key.sign(data)


def fingerprint(public_key: bytes) -> str:
    """Return the SHA-256 of a raw public key as 16 groups of 4 hex digits."""
    digest = hashlib.sha256(public_key).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def signature_valid(public_key: bytes, data: bytes, signature: bytes) -> bool:
    """Return whether ``signature`` is the signature of ``data`` by this raw public key."""
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def public_key_from_pem(pem: bytes) -> bytes:
    """Return the raw public key of a PEM public key; raise ValueError if not Ed25519."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise ValueError("not a PEM public key") from error
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_or_create(data_dir: Path) -> Signer:
    """Return the installation's signer, making its key in ``data_dir`` if there is none.

    Blocking (run it in a thread from async code). The key is written whole or not at all,
    and never over an existing one: two processes making it at once end with the same key.
    """
    path = data_dir / KEY_FILE
    try:
        return _load(path)
    except FileNotFoundError:
        pass
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(prefix=f".{KEY_FILE}.", suffix=".tmp", dir=data_dir)  # 0600
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temp, path)  # unlike rename, fails if another process made one first
        except FileExistsError:
            return _load(path)
        _sync_directory(data_dir)
        log.info("made the dossier signing key %s", path)
    finally:
        temp.unlink(missing_ok=True)
    return Signer(key)


def _load(path: Path) -> Signer:
    with path.open("rb") as file:
        mode = os.fstat(file.fileno()).st_mode
        pem = file.read(_MAX_KEY_FILE + 1)
    if mode & 0o077:
        log.warning("the signing key %s can be read by others (mode %o)", path, mode & 0o777)
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise SigningKeyError(f"{path} is not a readable private key") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 private key")
    return Signer(key)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # some file systems cannot sync a directory
            os.fsync(fd)
    finally:
        os.close(fd)
