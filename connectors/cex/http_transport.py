"""A cheaper HTTP/1.1 transport behind ccxt's async ``fetch``, opted into by the fast path only.

ccxt's ``fetch`` goes through aiohttp's ClientSession (request object, payload registry,
cookie filtering, timers, a response stream, a writer task): a few hundred microseconds of
CPU per call, much of an order's cost on a warm connection. This transport keeps ccxt's
``fetch`` contract and aiohttp's wire format while doing the minimum on a keep-alive socket:
- the request: aiohttp's header set and order (Host first, ccxt's headers, Accept, cookies
  from the session's jar, Content-Length, a POST's default Content-Type), serialized by
  aiohttp's own serializer, so the bytes on the wire are aiohttp's;
- the answer: status line, headers, a Content-Length, chunked or read-to-close body, gzip or
  deflate decoded; text decoded as aiohttp's ``text(errors='replace')`` does;
- ccxt's bookkeeping and error path unchanged: ``on_rest_response``, ``parse_json``, the last
  response fields, then ``handle_errors`` and ``handle_http_status_code`` on every answer;
- failures raised as ccxt's fetch raises them for aiohttp's: a timeout ``RequestTimeout``, a
  failed connect or a connection lost before the answer's head ``ExchangeNotAvailable`` (an
  idempotent method retried once, as aiohttp does), a body cut short ``ExchangeError``.
Redirects are followed as aiohttp follows them. Anything this does not reproduce (proxies,
multipart bodies, credentials in the URL) goes to ccxt's own ``fetch``. The throttle stays
where it is, in ``fetch2``.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import socket
import ssl
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any, cast

import aiohappyeyeballs
import yarl
from aiohttp import ClientRequest, hdrs
from aiohttp.helpers import parse_mimetype
from aiohttp.http import SERVER_SOFTWARE
from aiohttp.http_writer import _serialize_headers
from ccxt.base.errors import ExchangeError, ExchangeNotAvailable, RequestTimeout
from multidict import CIMultiDict

KEEPALIVE_S = 15.0  # aiohttp's TCPConnector default: an idle connection older than this is closed
_GET_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})  # aiohttp: no Content-Length: 0
_POST_METHODS = frozenset({"PATCH", "POST", "PUT"})  # aiohttp: a default Content-Type
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})  # aiohttp retries these once
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10  # aiohttp's default max_redirects
_DEFAULT_PORTS = {"http": 80, "https": 443}


class ConnectionLost(Exception):
    """The server closed (or reset) the connection; ``head_seen``: after the answer's head."""

    def __init__(self, head_seen: bool, cause: BaseException | None = None) -> None:
        super().__init__("connection lost " + ("in the body" if head_seen else "before the answer"))
        self.head_seen = head_seen
        self.cause = cause


class MalformedAnswer(Exception):
    """The bytes received are not an HTTP/1.x answer."""


class Answer:
    """One parsed HTTP answer: status, reason, headers in arrival order, and the raw body."""

    __slots__ = ("status", "reason", "headers", "body", "keep_alive")

    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes, keep_alive: bool) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.keep_alive = keep_alive

    def first(self, name: str) -> str | None:
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None


class _Reader:
    """Incremental parser of one answer at a time from the bytes a connection receives."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.head: tuple[int, str, list[tuple[str, str]], bool] | None = None
        self.mode = ""  # "length", "chunked", "close"
        self.remaining = 0
        self.body = bytearray()
        self.done = False

    def feed(self, buf: bytearray) -> None:
        """Consume what ``buf`` holds of the answer (removing it); ``done`` once complete."""
        while not self.done:
            if self.head is None:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(buf[: end + 4])
                del buf[: end + 4]
                self._parse_head(head)
            elif self.mode == "length":
                take = min(self.remaining, len(buf))
                self.body += buf[:take]
                del buf[:take]
                self.remaining -= take
                self.done = self.remaining == 0
                return
            elif self.mode == "chunked":
                if not self._chunk(buf):
                    return
            else:  # read until the server closes
                self.body += buf
                buf.clear()
                return

    def _parse_head(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise MalformedAnswer(lines[0][:100])
        status = int(parts[1])
        headers = []
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise MalformedAnswer(line[:100])
            headers.append((name, value.strip()))
        if 100 <= status < 200:  # an interim answer: the real one follows
            return
        lowered = {k.lower(): v for k, v in reversed(headers)}  # first occurrence wins
        connection = lowered.get("connection", "").lower()
        keep_alive = "close" not in connection and (parts[0] != "HTTP/1.0" or "keep-alive" in connection)
        self.head = (status, parts[2].strip() if len(parts) > 2 else "", headers, keep_alive)
        if self.method == "HEAD" or status in (204, 304):
            self.done = True
        elif "chunked" in lowered.get("transfer-encoding", "").lower():
            self.mode = "chunked"
        elif "content-length" in lowered:
            length = lowered["content-length"]
            if not length.isdigit():
                raise MalformedAnswer(f"Content-Length {length[:30]!r}")
            self.mode, self.remaining = "length", int(length)
            self.done = self.remaining == 0
        else:
            self.mode = "close"

    def _chunk(self, buf: bytearray) -> bool:
        """One chunk (or the last one and its trailers) from ``buf``; False when more is needed."""
        if self.remaining == 0:
            end = buf.find(b"\r\n")
            if end < 0:
                return False
            size_text = bytes(buf[:end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise MalformedAnswer(f"chunk size {size_text[:30]!r}") from None
            if size == 0:
                trailer_end = buf.find(b"\r\n\r\n", end)
                if buf[end : end + 4] == b"\r\n\r\n" or trailer_end >= 0:
                    stop = end + 4 if buf[end : end + 4] == b"\r\n\r\n" else trailer_end + 4
                    del buf[:stop]
                    self.done = True
                    return True
                return False
            del buf[: end + 2]
            self.remaining = size + 2  # the data and its CRLF
        take = min(self.remaining, len(buf))
        self.body += buf[:take]
        del buf[:take]
        self.remaining -= take
        if self.remaining == 0:
            del self.body[-2:]
            return True
        return False

    def answer(self) -> Answer:
        assert self.head is not None
        status, reason, headers, keep_alive = self.head
        return Answer(status, reason, headers, bytes(self.body), keep_alive and self.mode != "close")


class _KeptAlive(asyncio.Protocol):
    """One keep-alive connection: writes a request, resolves a future with its answer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.reader: _Reader | None = None
        self.waiter: asyncio.Future[Answer] | None = None
        self.closed = False
        self.idle_since = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.reader is None or self.waiter is None:
            return
        try:
            self.reader.feed(self.buffer)
        except MalformedAnswer as exc:
            self._fail(exc)
            return
        if self.reader.done:
            self._resolve()

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        reader = self.reader
        if reader is not None and reader.head is not None and reader.mode == "close" and exc is None:
            reader.done = True
            self._resolve()
            return
        self._fail(ConnectionLost(reader is not None and reader.head is not None, exc))

    def _resolve(self) -> None:
        assert self.reader is not None
        waiter, answer = self.waiter, self.reader.answer()
        self.reader = self.waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    def _fail(self, exc: BaseException) -> None:
        waiter = self.waiter
        self.reader = self.waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()

    def request(self, method: str, data: bytes) -> asyncio.Future[Answer]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.reader = _Reader(method)
        self.transport.write(data)
        if self.buffer:  # bytes before our request: a stale answer; fail rather than mismatch
            self._fail(MalformedAnswer("unsolicited bytes on an idle connection"))
        return self.waiter

    def reusable(self) -> bool:
        return (
            not self.closed
            and self.transport is not None
            and not self.transport.is_closing()
            and not self.buffer
            and time.monotonic() - self.idle_since < KEEPALIVE_S
        )

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


Fetch = Callable[..., Awaitable[Any]]


class FastHttp:
    """Keep-alive HTTP/1.1 connections per origin for one ccxt exchange; ``fetch`` replaces it."""

    def __init__(self, exchange: Any) -> None:
        self.exchange = exchange
        self.ccxt_fetch: Fetch = exchange.fetch
        self.idle: dict[tuple[str, str, int], deque[_KeptAlive]] = {}
        self.busy: set[_KeptAlive] = set()

    def install(self) -> None:
        ccxt_close = self.exchange.close

        async def close(*args: Any, **kwargs: Any) -> Any:
            self.close()
            return await ccxt_close(*args, **kwargs)

        self.exchange.fetch = self.fetch
        self.exchange.close = close

    def close(self) -> None:
        for pool in self.idle.values():
            for conn in pool:
                conn.close()
        self.idle.clear()
        for conn in list(self.busy):
            conn.close()

    def _ccxt_only(self, url: str, method: str, headers: Any, body: Any) -> bool:
        """Settings or requests only ccxt's aiohttp path handles."""
        ex = self.exchange
        if ex.aiohttp_proxy or ex.aiohttp_trust_env or ex.check_proxy_url_settings(url, method, headers, body):
            return True
        # a dict body: multipart/form-data
        return any(ex.check_proxy_settings(url, method, headers, body)) or isinstance(body, dict)

    async def fetch(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        ex = self.exchange
        if self._ccxt_only(url, method, headers, body):
            return await self.ccxt_fetch(url, method, headers, body)
        target = yarl.URL(url, encoded=True)
        if target.scheme not in _DEFAULT_PORTS or not target.raw_host or target.raw_user or target.raw_password:
            return await self.ccxt_fetch(url, method, headers, body)
        request_headers = ex.prepare_request_headers(headers)
        ex.last_request_headers = request_headers
        ex.open(True)
        # Method and URL only: the headers carry the API key and, on OKX, the passphrase (ccxt's own
        # fetch logs them at debug; this transport does not).
        ex.logger.debug("%s %s, Request", method, url)
        if ex.verbose:
            ex.log("\nfetch Request:", ex.id, method, url, "RequestHeaders:", request_headers, "RequestBody:", body)
        details = " ".join([ex.id, method, url])
        try:
            async with asyncio.timeout(ex.timeout / 1000):
                answer = await self._follow(target, method.upper(), request_headers, body.encode() if body else None)
        except TimeoutError as exc:
            if exc.errno is not None:  # the kernel's ETIMEDOUT: aiohttp's ClientOSError
                raise ExchangeNotAvailable(details) from exc
            raise RequestTimeout(details) from exc
        except (OSError, ConnectionLost) as exc:
            if isinstance(exc, ConnectionLost) and exc.head_seen:
                raise ExchangeError(details) from exc  # aiohttp's ClientPayloadError
            raise ExchangeNotAvailable(details) from exc
        except MalformedAnswer as exc:
            raise ExchangeError(details) from exc  # aiohttp's ClientResponseError
        try:
            text = decode_text(answer)
        except MalformedAnswer as exc:
            raise ExchangeError(details) from exc  # aiohttp's ContentEncodingError
        return self._finish(url, method, request_headers, body, answer, text)

    async def _follow(
        self, target: yarl.URL, verb: str, request_headers: dict[str, str], encoded: bytes | None
    ) -> Answer:
        """The answer, redirects followed as aiohttp follows them (at most 10; a 303, or a
        301/302 to a POST, becomes a GET without body; Authorization kept on the same origin)."""
        for _ in range(MAX_REDIRECTS + 1):
            answer = await self._exchange_bytes(target, verb, self._wire(target, verb, request_headers, encoded))
            self._keep_cookies(target, answer)
            location = answer.first("Location") if answer.status in _REDIRECTS else None
            if location is None:
                return answer
            if (answer.status == 303 and verb != "HEAD") or (answer.status in (301, 302) and verb == "POST"):
                verb, encoded = "GET", None
                request_headers = _without(request_headers, hdrs.CONTENT_LENGTH)
            following = yarl.URL(location)
            following = following if following.absolute else target.join(following)
            if following.scheme not in _DEFAULT_PORTS:
                raise MalformedAnswer(f"redirect to {following.scheme!r}")
            if following.origin() != target.origin():
                request_headers = _without(request_headers, hdrs.AUTHORIZATION)
            target = following
        raise MalformedAnswer("too many redirects")  # aiohttp's TooManyRedirects

    def _wire(self, target: yarl.URL, verb: str, request_headers: dict[str, str], encoded: bytes | None) -> bytes:
        """The request as aiohttp serializes it (same headers, same order)."""
        h: CIMultiDict[str] = CIMultiDict()
        h[hdrs.HOST] = cast(str, target.host_port_subcomponent)
        for key, value in request_headers.items():
            if key in hdrs.HOST_ALL:
                h[key] = value
            else:
                h.add(key, value)
        if hdrs.ACCEPT not in h:
            h[hdrs.ACCEPT] = "*/*"
        if hdrs.ACCEPT_ENCODING not in h:
            h[hdrs.ACCEPT_ENCODING] = ClientRequest.DEFAULT_HEADERS[hdrs.ACCEPT_ENCODING]
        if hdrs.USER_AGENT not in h:
            h[hdrs.USER_AGENT] = SERVER_SOFTWARE
        jar = self.exchange.session.cookie_jar
        if len(jar):
            cookies = jar.filter_cookies(target)
            if cookies:
                ClientRequest.update_cookies(cast(Any, SimpleNamespace(headers=h)), cookies)
        if encoded is None:
            if verb not in _GET_METHODS and hdrs.CONTENT_LENGTH not in h:
                h[hdrs.CONTENT_LENGTH] = "0"
        else:
            if hdrs.CONTENT_LENGTH not in h:
                h[hdrs.CONTENT_LENGTH] = str(len(encoded))
            if hdrs.CONTENT_TYPE not in h:
                h[hdrs.CONTENT_TYPE] = "application/octet-stream"
        if verb in _POST_METHODS and hdrs.CONTENT_TYPE not in h:
            h[hdrs.CONTENT_TYPE] = "application/octet-stream"
        head = _serialize_headers(f"{verb} {target.raw_path_qs} HTTP/1.1", h)
        return head + encoded if encoded else head

    async def _exchange_bytes(self, target: yarl.URL, verb: str, wire: bytes) -> Answer:
        """Send on an idle connection (else a new one); an idempotent request whose connection
        is lost before the answer's head is sent once more, as aiohttp does."""
        origin = (target.scheme, cast(str, target.raw_host), target.port or _DEFAULT_PORTS[target.scheme])
        retry = verb in _IDEMPOTENT
        while True:
            conn = self._idle(origin) or await self._connect(origin)
            self.busy.add(conn)
            try:
                answer = await conn.request(verb, wire)
            except ConnectionLost as exc:
                if retry and not exc.head_seen:
                    retry = False
                    continue
                raise
            except BaseException:
                conn.close()  # cancelled or timed out mid-answer: the connection is unusable
                raise
            finally:
                self.busy.discard(conn)
            if answer.keep_alive and conn.reusable():
                conn.idle_since = time.monotonic()
                pool = self.idle.setdefault(origin, deque())
                while pool and not pool[0].reusable():  # the oldest idle ones past keep-alive
                    pool.popleft().close()
                pool.append(conn)
            else:
                conn.close()
            return answer

    def _idle(self, origin: tuple[str, str, int]) -> _KeptAlive | None:
        pool = self.idle.get(origin)
        while pool:
            conn = pool.pop()
            if conn.reusable():
                return conn
            conn.close()
        return None

    async def _connect(self, origin: tuple[str, str, int]) -> _KeptAlive:
        """A new connection as aiohttp's connector makes it: every address of the host raced
        (happy eyeballs, no delay), TLS with the exchange's context for https."""
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
        sock = await aiohappyeyeballs.start_connection(infos, happy_eyeballs_delay=0)
        tls = self._tls() if scheme == "https" else None
        try:
            _, conn = await loop.create_connection(
                _KeptAlive, sock=sock, ssl=tls, server_hostname=host.strip("[]") if tls else None
            )
        except BaseException:
            sock.close()
            raise
        return conn

    def _tls(self) -> ssl.SSLContext:
        context = self.exchange.ssl_context
        if isinstance(context, ssl.SSLContext):
            return context
        unverified = ssl.create_default_context()  # ccxt's verify=False: aiohttp's ssl=False
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        return unverified

    def _keep_cookies(self, target: yarl.URL, answer: Answer) -> None:
        raw = [v for k, v in answer.headers if k.lower() == "set-cookie"]
        if raw:
            self.exchange.session.cookie_jar.update_cookies_from_headers(raw, target)

    def _finish(
        self, url: str, method: str, request_headers: dict[str, str], body: Any, answer: Answer, text: str
    ) -> Any:
        """ccxt's fetch from the answer's text on: headers, bookkeeping and error handling."""
        ex = self.exchange
        headers = ccxt_headers(answer.headers)
        status, reason = answer.status, answer.reason
        text = ex.on_rest_response(status, reason, url, method, headers, text, request_headers, body)
        json_response = ex.parse_json(text)
        if ex.enableLastHttpResponse:
            ex.last_http_response = text
        if ex.enableLastResponseHeaders:
            ex.last_response_headers = headers
        if ex.enableLastJsonResponse:
            ex.last_json_response = json_response
        if ex.verbose:
            ex.log("\nfetch Response:", ex.id, method, url, status, "ResponseHeaders:", headers, "ResponseBody:", text)
        if json_response and not isinstance(json_response, list) and ex.returnResponseHeaders:
            json_response["responseHeaders"] = headers
        ex.logger.debug("%s %s, Response: %s", method, url, status)
        ex.handle_errors(status, reason, url, method, headers, text, json_response, request_headers, body)
        ex.handle_http_status_code(status, reason, url, method, text)
        if json_response is not None:
            return json_response
        if ex.is_text_response(headers):
            return text
        if text == "" or text is None:
            return text
        return answer.body  # ccxt returns aiohttp's content stream here; the bytes it would hold


def _without(headers: dict[str, str], name: str) -> dict[str, str]:
    lower = name.lower()
    return {k: v for k, v in headers.items() if k.lower() != lower}


def ccxt_headers(raw: list[tuple[str, str]]) -> dict[str, str]:
    """ccxt's dict of an answer's headers: a repeated name joined with ', ' onto the first
    value looked up case-insensitively (ccxt reads ``raw_headers[header]``, the first)."""
    first: dict[str, str] = {}
    for key, value in raw:
        first.setdefault(key.lower(), value)
    headers: dict[str, str] = {}
    for key, _ in raw:
        value = first[key.lower()]
        headers[key] = headers[key] + ", " + value if key in headers else value
    return headers


def decode_text(answer: Answer) -> str:
    """aiohttp's ``text(errors='replace')``: the body decompressed per Content-Encoding, decoded
    with the Content-Type's charset, else UTF-8."""
    body = answer.body
    coding = (answer.first("Content-Encoding") or "").lower().strip()
    if body and coding in ("gzip", "deflate", "x-gzip"):
        try:
            zlib_header = body[0] & 0x0F == 8  # aiohttp: deflate with a zlib header, else raw
            wbits = 16 + zlib.MAX_WBITS if coding != "deflate" else (zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
            body = zlib.decompressobj(wbits=wbits).decompress(body)
        except zlib.error as exc:
            raise MalformedAnswer(f"cannot decode {coding} body") from exc
    encoding = "utf-8"
    content_type = (answer.first("Content-Type") or "").lower()
    if "charset" in content_type:
        charset = parse_mimetype(content_type).parameters.get("charset")
        if charset:
            with contextlib.suppress(LookupError, ValueError):
                encoding = codecs.lookup(charset).name
    return body.decode(encoding, errors="replace")


def install_fast_http(exchange: Any) -> FastHttp:
    """Replace ``exchange.fetch`` (ccxt async) with the transport; ``exchange.close`` closes it too."""
    transport = FastHttp(exchange)
    transport.install()
    return transport
