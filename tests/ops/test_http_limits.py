"""The HTTP limits of a real server process (``serve``): header size and time, body time,
keep-alive, concurrency. Raw sockets, so the client can misbehave as an attacker would.

The timeouts are set short here (``ENROLL_*_TIMEOUT``); nothing asserts how long anything
took: each test waits (with a generous socket timeout as a safety net) for the server to
answer or to close the connection.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import closing

import httpx
import pytest

from tests.live import live_server

SAFETY = 30.0  # seconds a socket read may block before the test fails
LIMITS = {
    "ENROLL_MAX_HEADER_BYTES": "16384",
    "ENROLL_HEADER_TIMEOUT": "0.5",
    "ENROLL_BODY_TIMEOUT": "0.5",
    "ENROLL_KEEP_ALIVE_TIMEOUT": "0.5",
    "ENROLL_MAX_CONCURRENCY": "4",
    # Hosts named, as in production (the default, "*", answers any Host).
    "ENROLL_ALLOWED_HOSTS": '["127.0.0.1", "localhost"]',
}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('limits') / 'limits.db'}"
    with live_server(url, env=LIMITS) as base_url:
        yield base_url


def connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=SAFETY)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def status_and_body(raw: bytes) -> tuple[int, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def request(path: str = "/health", extra: bytes = b"") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + extra + b"\r\n"


def test_headers_within_the_limit_are_served(base: str) -> None:
    r = httpx.get(f"{base}/health", headers={"X-Padding": "a" * 8000}, timeout=SAFETY)
    assert r.status_code == 200


def test_oversized_headers_are_a_431_problem(base: str) -> None:
    with closing(connect(base)) as sock:
        sock.sendall(request(extra=b"X-Padding: " + b"a" * 40_000 + b"\r\n"))
        status, body = status_and_body(read_until_closed(sock))
    assert status == 431
    assert json.loads(body)["status"] == 431


def test_headers_that_never_end_are_cut_off(base: str) -> None:
    """Headers streamed on and on (the 300 MB probe) are refused once past the limit."""
    with closing(connect(base)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        line = b"X-Padding: " + b"a" * 1000 + b"\r\n"
        try:
            for _ in range(64):  # 1 MB, far past the limit, never ending the headers
                sock.sendall(line * 16)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection on us: that is the point
        # Closed by the server (a read here that blocks past SAFETY fails the test).
        raw = read_until_closed(sock)
    if raw:  # the 431 may be lost when the server resets the socket with unread data
        assert status_and_body(raw)[0] == 431


def test_a_connection_that_sends_nothing_is_closed(base: str) -> None:
    with closing(connect(base)) as sock:
        assert read_until_closed(sock) == b""


def test_slow_headers_are_closed(base: str) -> None:
    with closing(connect(base)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
        assert read_until_closed(sock) == b""


def test_a_stalled_body_is_a_408_problem(base: str) -> None:
    with closing(connect(base)) as sock:
        sock.sendall(
            b"POST /api/v1/applicants HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: Bearer enr_x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n" + b'{"full_name": '
        )
        status, body = status_and_body(read_until_closed(sock))
    assert status == 408
    assert json.loads(body)["title"] == "Request timeout"


def test_an_idle_keep_alive_connection_is_closed(base: str) -> None:
    with closing(connect(base)) as sock:
        sock.sendall(request())
        status, _ = status_and_body(read_until_closed(sock))
    assert status == 200


def test_connections_past_the_cap_get_503(base: str) -> None:
    # Four open connections, each having sent the start of a request, fill the cap;
    # the fifth is answered 503 rather than queued. The header timeout frees them.
    held = [connect(base) for _ in range(4)]
    try:
        for sock in held:
            sock.sendall(b"GET /health HTTP/1.1\r\n")
        with closing(connect(base)) as sock:
            sock.sendall(request())
            status, _ = status_and_body(read_until_closed(sock))
        assert status == 503
    finally:
        for sock in held:
            sock.close()


def test_a_foreign_host_is_a_400_problem(base: str) -> None:
    r = httpx.get(f"{base}/api/v1/targets/", headers={"Host": "evil.example"}, timeout=SAFETY)
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert "evil.example" not in r.text
    assert "location" not in r.headers


def test_limits_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.core.config import Settings

    for name, value in LIMITS.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.max_header_bytes == 16384
    assert (settings.header_timeout, settings.body_timeout) == (0.5, 0.5)
    assert settings.keep_alive_timeout == 0.5
    assert settings.max_concurrency == 4
