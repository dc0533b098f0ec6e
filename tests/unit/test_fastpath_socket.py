"""The fast path's socket: frames split or joined any way by the stream are read whole, a
connection's requests are answered one at a time in order, a call cancelled while waiting
does not take the next call's answer, and a request read before its client went away is
still carried out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from crosslane.fastpath.client import FastPathClient
from crosslane.fastpath.protocol import (
    ENCODER,
    HEADER,
    MAX_FRAME,
    REQUEST_DECODER,
    FrameReader,
    FrameTooLarge,
    HealthRequest,
    Reply,
    StatusRequest,
    frame,
)
from workers.fastpath.server import FastPathServer


def test_frames_split_and_joined_any_way_are_read_whole() -> None:
    payloads = [ENCODER.encode(StatusRequest(parent_id=f"p{i}" * i)) for i in range(6)]
    stream = b"".join(HEADER.pack(len(p)) + p for p in payloads)
    for cut in (1, 3, 4, 5, 7, 64, len(stream)):
        reader = FrameReader()
        got = [p for i in range(0, len(stream), cut) for p in reader.feed(stream[i : i + cut])]
        assert got == payloads, f"chunks of {cut} bytes"


def test_an_oversized_frame_is_refused() -> None:
    with pytest.raises(FrameTooLarge):
        FrameReader().feed(HEADER.pack(MAX_FRAME + 1) + b"x")


class Stub:
    """A server whose status request for ``slow`` waits for ``release``; each handled request is logged."""

    def __init__(self) -> None:
        self.handled: list[str] = []
        self.release = asyncio.Event()

    async def handle(self, data: bytes) -> Reply:
        request = REQUEST_DECODER.decode(data)
        assert isinstance(request, StatusRequest | HealthRequest)
        name = getattr(request, "parent_id", None) or "health"
        if name.startswith("slow"):
            await self.release.wait()
        self.handled.append(name)
        return Reply(ok=True, error=name)  # the name travels back in an unused field


async def serve(tmp_path: Path, stub: Stub) -> tuple[asyncio.Server, Path]:
    server = FastPathServer.__new__(FastPathServer)
    server._handle = stub.handle  # type: ignore[method-assign]
    path = tmp_path / "fp.sock"
    return await server._listen(path), path


async def test_answers_come_in_order_and_a_cancelled_call_does_not_take_the_next_ones(tmp_path: Path) -> None:
    stub = Stub()
    server, path = await serve(tmp_path, stub)
    async with server, await FastPathClient.connect(path) as fp:
        slow = asyncio.ensure_future(fp.call(StatusRequest(parent_id="slow-1")))
        second = asyncio.ensure_future(fp.call(StatusRequest(parent_id="second")))
        await asyncio.sleep(0.05)
        assert stub.handled == [], "one at a time: the second waits for the first"
        slow.cancel()
        stub.release.set()
        assert (await second).error == "second", "the cancelled call's answer went nowhere"
        assert (await fp.call(HealthRequest())).error == "health"
        assert stub.handled == ["slow-1", "second", "health"]


async def test_a_request_read_before_its_client_left_is_carried_out(tmp_path: Path) -> None:
    stub = Stub()
    server, path = await serve(tmp_path, stub)
    async with server:
        reader, writer = await asyncio.open_unix_connection(str(path))
        writer.write(frame(StatusRequest(parent_id="slow-gone")) + frame(StatusRequest(parent_id="after")))
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()
        await writer.wait_closed()
        stub.release.set()
        while len(stub.handled) < 2:
            await asyncio.sleep(0.01)
        assert stub.handled == ["slow-gone", "after"]


async def test_a_call_whose_connection_breaks_fails_and_so_do_later_ones(tmp_path: Path) -> None:
    async def dies(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(HEADER.size)  # a request arrives; the process dies before answering
        writer.close()

    path = tmp_path / "fp.sock"
    async with await asyncio.start_unix_server(dies, path=str(path)):
        fp = await FastPathClient.connect(path)
        with pytest.raises(ConnectionError):
            await fp.call(StatusRequest(parent_id="lost"))
        with pytest.raises(ConnectionError):
            await fp.call(HealthRequest())
        await fp.close()
