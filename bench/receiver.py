"""A webhook receiver for the bench: answers every POST with 204 at once.

    python -m bench.receiver --port 8123

A bare ``asyncio.Protocol`` (keep-alive HTTP/1.1, Content-Length bodies, no
parsing beyond that), so the receiver is never what limits the dispatcher it
measures. ``GET /count`` answers the number of POSTs received so far.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"


class Counter:
    posts = 0


class ReceiverProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's transports are no asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            if head.startswith("GET /count"):
                body = str(Counter.posts).encode()
                self.transport.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
            else:
                Counter.posts += 1
                self.transport.write(NO_CONTENT)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(ReceiverProtocol, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is in the lock
        asyncio.run(serve(args.port))
    else:
        uvloop.run(serve(args.port))


if __name__ == "__main__":
    main()
