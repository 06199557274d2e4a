"""Request body size and time limits, as a pure ASGI middleware.

Multipart uploads may be up to ``max_upload_bytes``; every other body (JSON)
up to ``max_json_body_bytes``. A declared ``Content-Length`` over the limit is
refused before the application runs; a body without one (chunked) is counted
while it streams, and the moment it passes the limit the client gets a 413
problem and the application sees a disconnect, so it stops reading.

A client that stops sending its body (``body_timeout`` seconds without a byte
while the application waits for one) gets a 408 problem, and the application
again sees a disconnect.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.errors import PayloadTooLarge, problem_message
from service.core.i18n import Language, msg, scope_language


def _problem(limit: int, what: str, language: Language) -> tuple[list[tuple[bytes, bytes]], bytes]:
    if what == "upload":
        detail = msg(
            "upload.too_large", "The upload is larger than the limit of {limit} bytes.", limit=limit
        )
    else:
        detail = msg(
            "body.over_limit",
            "The request body is larger than the limit of {limit} bytes.",
            limit=limit,
        )
    return _closing(
        problem_message(
            PayloadTooLarge.status,
            PayloadTooLarge.title,
            detail,
            slug=PayloadTooLarge.slug,
            extra={"limit": limit},
            language=language,
        )
    )


def _timeout_problem(seconds: float, language: Language) -> tuple[list[tuple[bytes, bytes]], bytes]:
    return _closing(
        problem_message(
            408,
            msg("title.request-timeout", "Request timeout"),
            msg(
                "body.timeout",
                "No part of the request body arrived for {seconds} seconds.",
                seconds=f"{seconds:g}",
            ),
            slug="request-timeout",
            language=language,
        )
    )


def _closing(
    answer: tuple[list[tuple[bytes, bytes]], bytes],
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    headers, body = answer
    return [*headers, (b"connection", b"close")], body


class BodySizeLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_json_bytes: int,
        max_upload_bytes: int,
        body_timeout: float | None = None,
    ) -> None:
        self.app = app
        self.max_json_bytes = max_json_bytes
        self.max_upload_bytes = max_upload_bytes
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        content_type = b""
        content_length: int | None = None
        for name, value in scope.get("headers", ()):
            if name == b"content-type":
                content_type = value.lower()
            elif name == b"content-length":
                try:
                    content_length = int(value)
                except ValueError:
                    content_length = None
        if content_type.startswith(b"multipart/"):
            limit, what = self.max_upload_bytes, "upload"
        else:
            limit, what = self.max_json_bytes, "request body"

        if content_length is not None and content_length > limit:
            await self._refuse(send, limit, what, scope_language(scope))
            return

        received = 0
        refused = False
        response_started = False
        body_done = False

        async def next_message() -> Message:
            nonlocal refused
            if body_done or self.body_timeout is None:
                # After the body only a disconnect can come, whenever it comes.
                return await receive()
            try:
                return await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                refused = True
                if not response_started:
                    headers, body = _timeout_problem(self.body_timeout, scope_language(scope))
                    await send({"type": "http.response.start", "status": 408, "headers": headers})
                    await send({"type": "http.response.body", "body": body})
                return {"type": "http.disconnect"}

        async def limited_receive() -> Message:
            nonlocal received, refused, body_done
            if refused:
                return {"type": "http.disconnect"}
            message = await next_message()
            if refused:
                return message
            if message["type"] == "http.request":
                body_done = not message.get("more_body", False)
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not response_started:
                        await self._refuse(send, limit, what, scope_language(scope))
                    # The application sees a client that went away.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if refused:
                return  # the 413 has been sent; drop the application's answer
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise
            # Whatever the application raised on the cut-off body is moot: the
            # client already has its 413.

    @staticmethod
    async def _refuse(send: Send, limit: int, what: str, language: Language) -> None:
        headers, body = _problem(limit, what, language)
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
