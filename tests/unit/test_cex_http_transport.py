"""The fast path's HTTP transport keeps ccxt's ``fetch`` contract: against a scripted local
server, ccxt as shipped (aiohttp) and ccxt with the transport installed must put the same
bytes on the wire, return the same value, keep the same response headers and raise the same
ccxt exception (class and message) for each answer and each failure."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import ccxt
import ccxt.async_support as ccxt_async
import certifi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors.cex.errors import outcome_unknown, translate
from connectors.cex.http_transport import install_fast_http

FORM = {"X-MBX-APIKEY": "key", "Content-Type": "application/x-www-form-urlencoded"}
HANG = b"hang"  # read the request, never answer
CLOSE = b"close"  # read the request, close without answering
CUT = b"<cut>"  # at the end of a reply: close the connection once the rest is sent
Reply = Callable[[int], bytes]  # the n-th request (0-based, over all connections) -> what to send


def answer(status: str, body: bytes, *headers: str, length: bool = True) -> bytes:
    lines = [f"HTTP/1.1 {status}", *headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def ok_json(body: bytes = b'{"orderId":1,"status":"NEW"}') -> bytes:
    return answer("200 OK", body, "Content-Type: application/json")


def chunked(*parts: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunks = b"".join(f"{len(p):x};ext=1\r\n".encode() + p + b"\r\n" for p in parts)
    return head + chunks + b"0\r\n\r\n"


@dataclass
class Scripted:
    reply: Reply
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                self.requests.append(head + (await reader.readexactly(length) if length else b""))
                out = self.reply(len(self.requests) - 1)
                if out == HANG:
                    await asyncio.sleep(30)
                if out == CLOSE:
                    break
                writer.write(out.removesuffix(CUT))
                await writer.drain()
                if out.endswith(CUT) or b"Connection: close" in out:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def scripted(reply: Reply, tls: ssl.SSLContext | None = None) -> AsyncIterator[Scripted]:
    script = Scripted(reply)
    server = await asyncio.start_server(script.handle, "127.0.0.1", 0, ssl=tls)
    script.port = server.sockets[0].getsockname()[1]
    try:
        yield script
    finally:
        server.close()


@dataclass
class Outcome:
    results: list[Any]
    error: tuple[type[BaseException], str] | None
    wire: list[bytes]
    headers: Any


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext
    cafile: str  # the CA the client trusts (ccxt's ``cafile``)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    cert, key = self_signed(tmp_path)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return Tls(server, str(cert))


@dataclass(frozen=True)
class Conditions:
    timeout_ms: int = 10_000
    cookies: bool = False  # a jar that keeps cookies for IP hosts too (aiohttp's refuses by default)
    tls: Tls | None = None  # over https to localhost


async def run(fast: bool, reply: Reply, calls: list[tuple[str, Any, Any]], on: Conditions = Conditions()) -> Outcome:
    """``calls`` (method, headers, body) through ccxt's binance ``fetch``, as shipped or with the transport."""
    tls = on.tls
    exchange = ccxt_async.binance({"apiKey": "key", "secret": "secret", "timeout": on.timeout_ms})
    if tls is not None:
        exchange.cafile = tls.cafile
    if on.cookies:
        exchange.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    if fast:
        install_fast_http(exchange)
    results: list[Any] = []
    error = None
    async with scripted(reply, tls.server if tls else None) as server:
        origin = f"https://localhost:{server.port}" if tls else f"http://127.0.0.1:{server.port}"
        url = f"{origin}/api/v3/order?symbol=BTCUSDT&ids=%5B1%2C2%5D"
        try:
            for method, headers, body in calls:
                results.append(await exchange.fetch(url, method, dict(headers) if headers else None, body))
        except ccxt.BaseError as exc:
            error = (type(exc), str(exc).replace(str(server.port), "PORT"))
        finally:
            await exchange.close()
        wire = [r.replace(str(server.port).encode(), b"PORT") for r in server.requests]
    return Outcome(results, error, wire, exchange.last_response_headers)


async def same(reply: Reply, calls: list[tuple[str, Any, Any]], on: Conditions = Conditions()) -> Outcome:
    shipped = await run(False, reply, calls, on)
    fast = await run(True, reply, calls, on)
    assert fast.wire == shipped.wire
    assert fast.results == shipped.results
    assert fast.error == shipped.error
    assert fast.headers == shipped.headers
    return fast


CALLS = [
    ("POST", FORM, "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=30000"),
    ("GET", {"X-MBX-APIKEY": "key"}, None),
    ("DELETE", None, None),
    ("POST", None, None),  # no body: Content-Length 0 and aiohttp's default Content-Type
    ("DELETE", None, "origClientOrderId=x"),
    ("PUT", {"content-type": "application/json", "X-Extra": "a"}, '{"a": "é"}'),
]


async def test_same_requests_and_results_over_one_kept_alive_connection() -> None:
    reply = ok_json(b'{"orderId":1,"status":"NEW"}')
    outcome = await same(lambda _: reply, CALLS)
    assert len(outcome.wire) == len(CALLS) and outcome.results[0] == {"orderId": 1, "status": "NEW"}


async def test_concurrent_calls_each_take_a_connection_then_reuse_them() -> None:
    async with scripted(lambda _: ok_json()) as server:
        exchange = ccxt_async.binance({"apiKey": "key", "secret": "secret"})
        install_fast_http(exchange)
        url = f"http://127.0.0.1:{server.port}/api/v3/time"
        try:
            first = await asyncio.gather(*(exchange.fetch(url) for _ in range(4)))
            again = await asyncio.gather(*(exchange.fetch(url) for _ in range(4)))
        finally:
            await exchange.close()
        with pytest.raises(ccxt.ExchangeClosedByUser):
            await exchange.fetch(url)
    assert first == again == [{"orderId": 1, "status": "NEW"}] * 4
    assert server.connections == 4 and len(server.requests) == 8


async def test_https_with_the_exchanges_certificate_authority(tls: Tls) -> None:
    outcome = await same(lambda _: ok_json(), CALLS, Conditions(tls=tls))
    assert outcome.error is None and len(outcome.wire) == len(CALLS)
    assert outcome.wire[0].startswith(b"POST /api/v3/order?") and b"Host: localhost:PORT" in outcome.wire[0]


async def test_https_to_an_untrusted_certificate_is_refused(tls: Tls) -> None:
    untrusted = Tls(tls.server, certifi.where())
    outcome = await same(lambda _: ok_json(), CALLS[:1], Conditions(tls=untrusted))
    assert outcome.error is not None and outcome.error[0] is ccxt.ExchangeNotAvailable and outcome.wire == []


async def test_the_fast_transport_reuses_its_connection() -> None:
    async with scripted(lambda _: ok_json()) as server:
        exchange = ccxt_async.binance({"apiKey": "key", "secret": "secret"})
        install_fast_http(exchange)
        try:
            for _ in range(5):
                await exchange.fetch(f"http://127.0.0.1:{server.port}/api/v3/time")
        finally:
            await exchange.close()
        assert server.connections == 1


@pytest.mark.parametrize(
    "reply",
    [
        chunked(b'{"orderId":', b"12,", b'"status":"NEW"}'),
        answer("200 OK", gzip.compress(b'{"a": 1}'), "Content-Type: application/json", "Content-Encoding: gzip"),
        answer("200 OK", "café".encode("latin-1"), "Content-Type: text/plain; charset=latin-1"),
        answer(
            "200 OK", b'"x"', "Content-Type: text/plain", "X-Dup: 1", "x-dup: 2", "X-Dup: 3", "Set-Cookie: a=1; Path=/"
        ),
        answer("200 OK", b"", "Content-Type: application/json"),
        answer("200 OK", b'{"read": "to close"}', "Content-Type: application/json", "Connection: close", length=False),
        answer("204 No Content", b"", length=False),
    ],
    ids=["chunked", "gzip", "latin-1", "repeated-headers", "empty", "read-to-close", "204"],
)
async def test_answers_are_read_as_ccxt_reads_them(reply: bytes) -> None:
    await same(lambda _: reply, CALLS[:2])


async def test_cookies_the_venue_sets_are_sent_back() -> None:
    reply = answer("200 OK", b"{}", "Content-Type: application/json", "Set-Cookie: AWSALB=abc; Path=/")
    outcome = await same(lambda _: reply, CALLS[:3], Conditions(cookies=True))
    assert b"Cookie: AWSALB=abc" in outcome.wire[1]


@pytest.mark.parametrize("status", ["301 Moved Permanently", "302 Found", "303 See Other", "307 Temporary Redirect"])
async def test_redirects_are_followed_as_aiohttp_follows_them(status: str) -> None:
    def reply(n: int) -> bytes:
        return answer(status, b"", "Location: /api/v3/moved?x=1") if n == 0 else ok_json()

    outcome = await same(reply, CALLS[:1])
    assert len(outcome.wire) == 2 and outcome.wire[1].startswith(
        b"GET" if status[:3] in ("301", "302", "303") else b"POST"
    )


async def test_a_binary_answer_is_its_bytes() -> None:
    """The one documented difference: a non-JSON, non-text answer is returned by ccxt as
    aiohttp's (already closed, unreadable) content stream; the transport returns its bytes."""
    reply = answer("200 OK", b"\x00\x01", "Content-Type: application/octet-stream")
    shipped, fast = await run(False, lambda _: reply, CALLS[1:2]), await run(True, lambda _: reply, CALLS[1:2])
    assert fast.wire == shipped.wire and fast.results == [b"\x00\x01"] and fast.headers == shipped.headers


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            answer("400 Bad Request", b'{"code":-2010,"msg":"Account has insufficient balance"}'),
            ccxt.InvalidOrder,
        ),
        (answer("400 Bad Request", b'{"code":-2013,"msg":"Order does not exist."}'), ccxt.OrderNotFound),
        (answer("401 Unauthorized", b'{"code":-2015,"msg":"Invalid API-key"}'), ccxt.AuthenticationError),
        (answer("429 Too Many Requests", b'{"code":-1003,"msg":"Too many requests"}'), ccxt.DDoSProtection),
        (answer("503 Service Unavailable", b"<html>down</html>", "Content-Type: text/html"), ccxt.ExchangeNotAvailable),
        (answer("500 Internal Server Error", b""), ccxt.ExchangeNotAvailable),
    ],
    ids=["insufficient", "unknown-order", "auth", "429", "503", "500"],
)
async def test_error_answers_raise_what_ccxt_raises(reply: bytes, expected: type[BaseException]) -> None:
    outcome = await same(lambda _: reply, CALLS[:1])
    assert outcome.error is not None and issubclass(outcome.error[0], expected)


async def test_a_timeout_is_a_request_timeout() -> None:
    outcome = await same(lambda _: HANG, CALLS[:1], Conditions(timeout_ms=300))
    assert outcome.error is not None and outcome.error[0] is ccxt.RequestTimeout
    assert outcome_unknown(outcome.error[0]("x"))


async def test_a_refused_connection_is_exchange_not_available() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        for fast in (False, True):
            exchange = ccxt_async.binance({"apiKey": "key", "secret": "secret"})
            if fast:
                install_fast_http(exchange)
            try:
                with pytest.raises(ccxt.ExchangeNotAvailable) as raised:
                    await exchange.fetch(f"http://127.0.0.1:{port}/api/v3/order", "POST", FORM, "a=1")
            finally:
                await exchange.close()
            assert type(raised.value) is ccxt.ExchangeNotAvailable
            assert translate(raised.value, "binance", "place").retryable


async def test_a_connection_closed_before_the_answer() -> None:
    # A POST is not resent (it may have been executed); an idempotent GET is, once, as aiohttp does.
    outcome = await same(lambda n: CLOSE if n == 0 else ok_json(), CALLS[:1])
    assert outcome.error is not None and outcome.error[0] is ccxt.ExchangeNotAvailable
    outcome = await same(lambda n: CLOSE if n == 0 else ok_json(), CALLS[1:2])
    assert outcome.error is None and len(outcome.wire) == 2
    outcome = await same(lambda _: CLOSE, CALLS[1:2])
    assert outcome.error is not None and outcome.error[0] is ccxt.ExchangeNotAvailable and len(outcome.wire) == 2


@pytest.mark.parametrize(
    "cut",
    [
        ok_json()[:-5],
        chunked(b'{"orderId":', b'12,"status":"NEW"}')[:-12],
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Len",
    ],
    ids=["in-the-body", "in-a-chunk", "in-the-head"],
)
async def test_a_connection_closed_mid_answer(cut: bytes) -> None:
    outcome = await same(lambda _: cut + CUT, CALLS[:1])
    assert outcome.error is not None
