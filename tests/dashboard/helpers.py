"""Signing in, and reading numbers back out of the dashboard's HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx

from service.dashboard.session import COOKIE_NAME

ORIGIN = "http://test"


async def sign_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/dashboard/login", data={"api_key": token}, headers={"Origin": ORIGIN}
    )


def session_cookie(response: httpx.Response) -> str:
    """The raw Set-Cookie header of the session cookie."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{COOKIE_NAME}="):
            return header
    raise AssertionError(f"no {COOKIE_NAME} cookie in {response.headers!r}")


def cookie_attributes(header: str) -> dict[str, str]:
    parts = [p.strip() for p in header.split(";")]
    attrs: dict[str, str] = {}
    for part in parts[1:]:
        name, _, value = part.partition("=")
        attrs[name.lower()] = value
    return attrs


class _Texts(HTMLParser):
    """Text of elements by class name and data-* attributes by element id."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[list[str]] = []
        self.by_class: dict[str, list[str]] = {}
        self.data: dict[str, dict[str, str]] = {}
        self._buffers: list[tuple[list[str], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.data[values["id"]] = {k: v for k, v in values.items() if k.startswith("data-")}
        classes = values.get("class", "").split()
        self._buffers.append((classes, []))

    def handle_endtag(self, tag: str) -> None:
        if not self._buffers:
            return
        classes, text = self._buffers.pop()
        joined = " ".join("".join(text).split())
        for name in classes:
            self.by_class.setdefault(name, []).append(joined)
        if self._buffers:
            self._buffers[-1][1].extend(text)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.data[values["id"]] = {k: v for k, v in values.items() if k.startswith("data-")}

    def handle_data(self, data: str) -> None:
        if self._buffers:
            self._buffers[-1][1].append(data)


VOID = re.compile(r"<(meta|link|input|br|hr|img)\b([^>]*?)/?>", re.IGNORECASE)


def parse(html: str) -> _Texts:
    parser = _Texts()
    # Void elements never close: write them self-closed so the stack stays balanced.
    parser.feed(VOID.sub(lambda m: f"<{m.group(1)}{m.group(2)}/>", html))
    return parser


def number(text: str) -> int:
    return int(text.replace(",", ""))
