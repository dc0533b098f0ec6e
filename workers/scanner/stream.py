"""The scanner's side of the opportunity stream (:mod:`crosslane.arbitrage_stream`): a TCP
server on 127.0.0.1 writing one JSON line per opportunity to every subscriber. A subscriber
too slow to keep up loses its oldest lines, never stalls the scanner."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from crosslane.arbitrage_stream import ScannedOpportunity

log = logging.getLogger(__name__)


class OpportunityStream:
    def __init__(self, port: int = 0, *, backlog: int = 10_000) -> None:
        self.port = port
        self.backlog = backlog
        self._queues: set[asyncio.Queue[bytes | None]] = set()
        self._server: asyncio.Server | None = None
        self.published = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(self.backlog)
        self._queues.add(queue)
        try:
            while (line := await queue.get()) is not None:
                writer.write(line)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self._queues.discard(queue)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def publish(self, item: ScannedOpportunity) -> None:
        line = (item.model_dump_json() + "\n").encode()
        self.published += 1
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()  # drop the oldest for this slow subscriber
            queue.put_nowait(line)

    async def close(self) -> None:
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
