"""uvicorn's httptools protocol with the limits it lacks: header size and header time.

- A request's header section (request line and headers) over ``max_header_bytes``
  is answered 431 and the connection closed. Headers that never end are cut off
  as soon as more than the limit has arrived without them ending.
- A connection must finish sending each request's headers within
  ``header_timeout`` seconds of opening (or of its previous answer); otherwise
  it is closed (slow-header clients hold no socket for long).

Body time is limited in the ASGI layer (``service.core.limits.BodySizeLimit``:
a client that stops sending its body gets a 408); idle keep-alive connections
by uvicorn's ``timeout_keep_alive``; concurrency by its ``limit_concurrency``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from service.core.errors import PROBLEM_BASE, PROBLEM_MEDIA_TYPE

_TOO_LARGE_BODY = json.dumps(
    {
        "type": PROBLEM_BASE + "headers-too-large",
        "title": "Request header fields too large",
        "status": 431,
        "detail": "The request line and headers are larger than this server accepts.",
    }
).encode()
_TOO_LARGE_HEADERS = [
    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
    (b"content-length", str(len(_TOO_LARGE_BODY)).encode()),
    (b"connection", b"close"),
]


async def _headers_too_large(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 431, "headers": _TOO_LARGE_HEADERS})
    await send({"type": "http.response.body", "body": _TOO_LARGE_BODY})


def limited_protocol(*, max_header_bytes: int, header_timeout: float) -> type[HttpToolsProtocol]:
    """An ``HttpToolsProtocol`` class enforcing these limits (pass it as uvicorn's ``http``)."""

    class LimitedHttpToolsProtocol(HttpToolsProtocol):
        def __init__(
            self,
            config: Config,
            server_state: ServerState,
            app_state: dict[str, Any],
            _loop: asyncio.AbstractEventLoop | None = None,
        ) -> None:
            super().__init__(config, server_state, app_state, _loop)
            self._reading_headers = True
            self._raw_header_bytes = 0  # bytes received since this request began
            self._header_bytes = 0  # request line and headers as parsed
            self._header_timer: asyncio.TimerHandle | None = None

        def _arm_header_timer(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(header_timeout, self._header_timed_out)

        def _disarm_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _header_timed_out(self) -> None:
            self._header_timer = None
            if self._reading_headers and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_header_timer()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._reading_headers:
                if self._raw_header_bytes > max_header_bytes:
                    self._refuse_raw()
                    return
                self._raw_header_bytes += len(data)
            super().data_received(data)

        def _refuse_raw(self) -> None:
            if self.transport.is_closing():
                return
            head = b"HTTP/1.1 431 Request Header Fields Too Large\r\n" + b"".join(
                name + b": " + value + b"\r\n" for name, value in _TOO_LARGE_HEADERS
            )
            self.transport.write(head + b"\r\n" + _TOO_LARGE_BODY)
            self.transport.close()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._reading_headers = True
            self._header_bytes = 0
            self._arm_header_timer()

        def on_url(self, url: bytes) -> None:
            super().on_url(url)
            self._header_bytes += len(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            super().on_header(name, value)
            self._header_bytes += len(name) + len(value) + 4

        def on_headers_complete(self) -> None:
            self._reading_headers = False
            self._disarm_header_timer()
            if self._header_bytes <= max_header_bytes:
                super().on_headers_complete()
                return
            app, self.app = self.app, _headers_too_large
            try:
                super().on_headers_complete()
            finally:
                self.app = app

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # The next request's headers start counting afresh (the keep-alive timer
            # covers the wait for its first byte; this one then covers its headers).
            self._raw_header_bytes = 0
            self._reading_headers = True

    return LimitedHttpToolsProtocol
