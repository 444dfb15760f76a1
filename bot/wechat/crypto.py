"""WeChat's message signatures and its "safe mode" encryption (WXBizMsgCrypt).

Signatures are SHA-1 of the sorted, concatenated strings (the account's token, the timestamp,
the nonce, and in safe mode the encrypted message). Safe mode encrypts with AES-256-CBC: the
key is the account's 43-character EncodingAESKey decoded from base64, the IV its first 16
bytes, PKCS#7 padding to 32-byte blocks; the plaintext is 16 random bytes, the XML's length
(4 bytes, big-endian), the XML, and the AppID (checked on the way in).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class InvalidMessage(Exception):
    """A signature that does not match, or a message that does not decrypt to our AppID."""


def signature(*parts: str) -> str:
    """SHA-1 is the scheme WeChat defines, not a choice of ours."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_ok(expected_parts: tuple[str, ...], given: str | None) -> bool:
    """Constant-time check of a signature over ``expected_parts``."""
    return given is not None and hmac.compare_digest(signature(*expected_parts), given)


class Codec:
    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        key = base64.b64decode(encoding_aes_key + "=")
        if len(key) != 32:
            raise ValueError("the EncodingAESKey must be 43 characters (32 bytes in base64)")
        self.token, self.app_id, self._key = token, app_id, key

    def decrypt(self, encrypted: str, *, timestamp: str, nonce: str, msg_signature: str) -> str:
        """The XML of an encrypted message, its signature checked first."""
        if not signature_ok((self.token, timestamp, nonce, encrypted), msg_signature):
            raise InvalidMessage("signature")
        try:
            data = base64.b64decode(encrypted)
            decryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).decryptor()
            plain = decryptor.update(data) + decryptor.finalize()
            pad = plain[-1]
            if not 1 <= pad <= BLOCK:
                raise ValueError("padding")
            plain = plain[:-pad]
            (length,) = struct.unpack(">I", plain[16:20])
            xml, app_id = plain[20 : 20 + length], plain[20 + length :]
        except (ValueError, struct.error) as error:
            raise InvalidMessage(type(error).__name__) from None
        if app_id.decode("utf-8", "replace") != self.app_id:
            raise InvalidMessage("app id")
        return xml.decode("utf-8")

    def encrypt(self, xml: str, *, timestamp: str, nonce: str) -> str:
        """The reply envelope of safe mode: the encrypted XML and its signature."""
        body = xml.encode("utf-8")
        plain = secrets.token_bytes(16) + struct.pack(">I", len(body)) + body
        plain += self.app_id.encode("utf-8")
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).encryptor()
        encrypted = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
        sign = signature(self.token, timestamp, nonce, encrypted)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{sign}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )
