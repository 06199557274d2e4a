"""Where a webhook may point: https, and never at a loopback, private, link-local or
multicast address — checked when the endpoint is saved and again on every connection
(the address checked is the address connected to: no DNS rebinding)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from httpcore._backends.auto import AutoBackend

from service.core.i18n import msg

MAX_URL_LENGTH = 2000


class UnsafeTarget(httpcore.ConnectError):
    """The target resolves to an address webhooks may not reach."""


def forbidden(address: str) -> str | None:
    """Why ``address`` may not be a webhook target, or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for reason, bad in (
        ("loopback", ip.is_loopback),
        ("private", ip.is_private),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
    ):
        if bad:
            return reason
    return None


def shape_error(url: str, *, allow_private: bool) -> str | None:
    """What is wrong with the URL as written (no network), or None."""
    if len(url) > MAX_URL_LENGTH:
        return msg("url.too_long", "At most {max} characters.", max=MAX_URL_LENGTH)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return msg("url.invalid", "Not a valid URL.")
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        return msg("url.not_https", "Must be an https:// URL.")
    if not parts.hostname:
        return msg("url.no_host", "The URL has no host.")
    if parts.username or parts.password:
        return msg(
            "url.credentials",
            "Credentials in the URL are not allowed; use the signature to authenticate.",
        )
    if port == 0:
        return msg("url.port", "Not a valid port.")
    return None


async def resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def first_forbidden(addresses: Iterable[str]) -> str | None:
    for address in addresses:
        reason = forbidden(address)
        if reason:
            return f"{address} is {reason}"
    return None


async def target_error(url: str, *, allow_private: bool) -> str | None:
    """Shape, then (unless private targets are allowed) every address the host resolves to.

    A host that does not resolve (yet) is accepted here; each delivery checks again.
    """
    error = shape_error(url, allow_private=allow_private)
    if error or allow_private:
        return error
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = await resolve(host, parts.port or 443)
    except OSError:
        return None
    bad = first_forbidden(addresses)
    if bad is None:
        return None
    return msg(
        "url.forbidden_address",
        "The host resolves to a forbidden address ({reason}).",
        reason=bad.split(" is ")[1],
    )


class GuardedBackend(AutoBackend):
    """Resolve, check every address, connect to a checked one (TLS still verifies the name)."""

    def __init__(self, *, allow_private: bool) -> None:
        super().__init__()
        self.allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve(host, port)
        if not self.allow_private:
            bad = first_forbidden(addresses)
            if bad:
                raise UnsafeTarget(f"target address not allowed: {bad}")
        return await super().connect_tcp(
            addresses[0],
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )


def guarded_client(
    *, allow_private: bool, timeout: float, max_connections: int
) -> httpx.AsyncClient:
    """A pooled client whose every connection goes through ``GuardedBackend``; no redirects."""
    transport = httpx.AsyncHTTPTransport(
        trust_env=False,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=64),
    )
    # httpx takes no network backend argument; its pool does (httpcore's public option).
    pool: httpcore.AsyncConnectionPool = transport._pool
    pool._network_backend = GuardedBackend(allow_private=allow_private)
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": "enrollment-service-webhooks/1"},
    )
