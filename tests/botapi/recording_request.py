"""An ``HTTPXRequest`` that checks every Bot API call PTB makes against the schema.

Give one to ``telegram.Bot(..., request=RecordingRequest())`` or, for an ``Application``, to both
``ApplicationBuilder().request(...)`` and ``.get_updates_request(...)`` (PTB uses a separate
request object for ``getUpdates``). Each API call (PTB always POSTs them) is decoded from the
URL's last path segment and ``RequestData``, checked with ``validate_request`` and performed
normally; the bot token is never stored or logged. File downloads (GET) are not checked.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from telegram.request import BaseRequest, HTTPXRequest, RequestData

from .schema import validate_request, validate_result


class RecordingRequest(HTTPXRequest):
    """Records ``(method, params)`` of each call in ``calls`` and schema violations in
    ``violations``; with ``check_results`` also checks the server's results into
    ``result_violations`` (useful against a test peer)."""

    def __init__(self, *args: Any, check_results: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.violations: list[str] = []
        self.result_violations: list[str] = []
        self.check_results = check_results

    @staticmethod
    def decode(url: str, request_data: RequestData | None) -> tuple[str, dict[str, Any]]:
        """The API method named by ``url`` and the parameters PTB will send, files as bytes."""
        method = urlsplit(url).path.rsplit("/", 1)[-1]
        if request_data is None:
            return method, {}
        params: dict[str, Any] = dict(request_data.parameters)
        attached = json.dumps(params, default=str)
        for name, part in request_data.multipart_data.items():
            # Files referenced as attach://<name> are not parameters of their own.
            if f"attach://{name}" not in attached:
                content = part[1] if isinstance(part, tuple) else part
                params[name] = content if isinstance(content, bytes) else b""
        return method, params

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api_method = ""
        if method == "POST":
            api_method, params = self.decode(url, request_data)
            self.calls.append((api_method, params))
            self.violations += validate_request(api_method, params)
        code, payload = await super().do_request(
            url,
            method,
            request_data=request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if self.check_results and api_method and code == 200:
            result = json.loads(payload).get("result")
            self.result_violations += validate_result(api_method, result)
        return code, payload
