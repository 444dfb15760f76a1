"""An S3 server for the tests: moto's, in this process, on 127.0.0.1 (no network, no
credentials; any key is accepted)."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import httpx

from bot.evidence_store import S3EvidenceStore


class S3Server:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request else
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"

    def new_bucket(self) -> str:
        """Create an empty bucket of the caller's own; return its name."""
        name = f"evidence-{secrets.token_hex(6)}"
        httpx.put(f"{self.endpoint}/{name}").raise_for_status()
        return name

    def keys(self, bucket: str) -> list[str]:
        """Every key in the bucket, sorted."""
        import xml.etree.ElementTree as ET

        response = httpx.get(f"{self.endpoint}/{bucket}", params={"list-type": "2"})
        response.raise_for_status()
        space = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}
        return sorted(
            key.text or "" for key in ET.fromstring(response.text).iterfind(".//s3:Key", space)
        )

    def put(self, bucket: str, key: str, data: bytes) -> None:
        """Write an object directly, behind any store's back."""
        import obstore
        from obstore.store import S3Store

        raw = S3Store(
            bucket,
            endpoint=self.endpoint,
            region="us-east-1",
            access_key_id="test",
            secret_access_key="test",
            client_options={"allow_http": True},
        )
        obstore.put(raw, key, data)

    def store(self, root: Path, bucket: str, prefix: str = "") -> S3EvidenceStore:
        url = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
        return S3EvidenceStore(
            root,
            url,
            endpoint=self.endpoint,
            region="us-east-1",
            access_key_id="test",
            secret_access_key="test",
        )

    def stop(self) -> None:
        self._server.stop()
