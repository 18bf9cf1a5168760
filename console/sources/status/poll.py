"""Poll Apache's mod_status: ``URL?auto`` for the counters, the HTML page for in-flight requests.

One :class:`requests.Session` does the HTTP, always through :func:`asyncio.to_thread`, so a
server that accepts and never answers (the usual state of a saturated Apache) cannot stall the
event loop. Failures become :class:`~console.core.events.SourceState` values in words a person can
act on (refused, timeout, HTTP error, password, not a status page, TLS), the poller backs off
(interval doubled per failure, up to ``max_backoff``) and keeps trying.

The HTML page is read only when it can have changed (the ``?auto`` counters moved) or is 5 s
old; the polls in between reuse its worker table (see :mod:`console.sources.status.table`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import requests
import urllib3

from console import __version__
from console.core.clock import SYSTEM_CLOCK, Clock
from console.core.events import SourceStatus, StatusSample
from console.core.text import clean_block
from console.parsing.modstatus import QUIET_MODES, NotModStatus, build_sample, parse_html
from console.sources import Sink, StateReporter
from console.sources.status.deadline import Deadline
from console.sources.status.table import MAX_AGE, TableCache, WorkerTable

KIND = "mod-status"
#: Largest answer read; a status page of 1,000 busy workers is well under 1 MiB.
MAX_BYTES = 4 * 1024 * 1024
#: Sent with every poll, so lamptop can tell its own requests in the access log.
USER_AGENT = f"lamptop/{__version__}"
CHUNK = 64 * 1024

HINT_AUTH = "set status user/password in config or LAMPTOP_STATUS_PASSWORD"
HINT_EXTENDED = "ExtendedStatus On (in the Apache config) shows the in-flight requests"
HINT_NOT_STATUS = (
    "point the status URL at mod_status: a <Location /server-status> with SetHandler server-status"
)


class PollFailure(Exception):
    """Why one poll got no sample, as the state to report."""

    def __init__(self, status: SourceStatus, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status: SourceStatus = status
        self.message = message
        self.hint = hint


def split_url(url: str) -> tuple[str, tuple[str, str] | None]:
    """``http://u:p@host/server-status?auto`` to (``http://host/server-status``, (u, p)).

    Credentials never stay in the URL that is shown or recorded; an ``auto`` query item is
    dropped because the poller adds it itself.
    """
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    creds = None
    netloc = parts.netloc
    if "@" in netloc:
        creds = (unquote(parts.username or ""), unquote(parts.password or ""))
        netloc = netloc.rsplit("@", 1)[1]
    query = "&".join(q for q in parts.query.split("&") if q and q.split("=", 1)[0] != "auto")
    return urlunsplit((parts.scheme or "http", netloc, parts.path or "/", query, "")), creds


def _host_port(scheme: str, netloc: str) -> str:
    """``host:port`` with the scheme's default port filled in (``127.0.0.1:80``)."""
    host = netloc.rsplit("@", 1)[-1]
    if host.endswith("]") or ":" not in host:  # no port given ([::1] or name)
        return f"{host}:{443 if scheme == 'https' else 80}"
    return host


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (causes, contexts, urllib3 reasons, args)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        for nxt in (e.__cause__, e.__context__, getattr(e, "reason", None), *e.args):
            if isinstance(nxt, BaseException):
                stack.append(nxt)


class StatusPoller:
    """Polls one mod_status URL and hands :class:`StatusSample` values to a sink."""

    def __init__(
        self,
        url: str,
        sink: Sink,
        *,
        name: str = "mod_status",
        interval: float = 1.0,
        connect_timeout: float = 1.0,
        read_timeout: float = 2.0,
        auth: tuple[str, str] | None = None,
        verify: bool = True,
        extended: bool = True,
        max_backoff: float = 10.0,
        table_max_age: float = MAX_AGE,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        clean, url_auth = split_url(url)
        self.url = clean
        """The status page URL, without credentials and without ``?auto``."""
        self.sink = sink
        self.name = name
        self.interval = interval
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.verify = verify
        self.extended = extended
        """Also fetch the HTML page for the worker table."""
        self.max_backoff = max(max_backoff, interval)
        if not verify:
            # The user chose to trust this server (status_verify = false): a warning per poll
            # written to stderr would only scribble over the screen.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self._auth = auth if auth is not None else url_auth
        parts = urlsplit(self.url)
        self._auto_url = f"{self.url}{'&' if parts.query else '?'}auto"
        self._hostport = _host_port(parts.scheme, parts.netloc)
        self._session: requests.Session | None = None
        self._deadline: Deadline | None = None
        self._report = StateReporter(sink, self.name, KIND, self.url, clock)
        self.clock = clock
        self.delay = interval
        """Seconds until the next poll: the interval, or longer while failing."""
        # The last worker table: the HTML page is read again only when it can have changed,
        # or when it is ``table_max_age`` seconds old.
        self._tables = TableCache(parts.path or "/", max_age=table_max_age, slack=interval / 2)

    # -- the loop ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Poll until cancelled."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                started = loop.time()
                await self.poll_once()
                await asyncio.sleep(max(0.0, self.delay - (loop.time() - started)))
        finally:
            self.close()

    async def poll_once(self) -> StatusSample | None:
        """Fetch and parse once; deliver the sample or the failure to the sink."""
        try:
            sample, hint = await asyncio.to_thread(self._poll_blocking)
        except PollFailure as failure:
            self._tables.forget()
            self.delay = min(self.max_backoff, max(self.delay, self.interval) * 2)
            self._state(failure.status, failure.message, failure.hint)
            return None
        self.delay = self.interval
        self._state("ok", "", hint)
        self.sink.add_status(sample)
        return sample

    def close(self) -> None:
        if self._deadline is not None:
            self._deadline.close()
        if self._session is not None:
            self._session.close()
        self._session = self._deadline = None

    def _state(self, status: SourceStatus, message: str, hint: str) -> None:
        self._report(status, message, hint)

    # -- in the worker thread ----------------------------------------------------------------

    def _poll_blocking(self) -> tuple[StatusSample, str]:
        auto_text = self._get(self._auto_url)
        try:
            sample = build_sample(self.clock.now(), self.url, auto_text)
        except NotModStatus as exc:
            what = "got HTML" if "HTML" in str(exc) else "unrecognised text"
            raise PollFailure(
                "not-status", f"not a mod_status page ({what})", HINT_NOT_STATUS
            ) from exc
        if not self.extended:
            return sample, ""
        tables = self._tables
        table = self._read_table() if tables.stale(sample) else tables.current()
        sample = replace(
            sample,
            ts=self.clock.now(),
            workers=table.workers,
            processes=table.processes,
            extended=table.extended,
        )
        return sample, table.hint

    def _read_table(self) -> WorkerTable:
        """Fetch and parse the HTML page; keep the table for the polls that reuse it."""
        tables = self._tables
        try:
            html_text = self._get(self.url)
        except PollFailure as failure:
            tables.forget()
            return WorkerTable(hint=f"worker table unavailable: {failure.message}")
        tables.counted()
        read_at = time.monotonic()
        try:
            workers, processes, info = parse_html(html_text)
        except NotModStatus:
            tables.forget()
            return WorkerTable(hint="worker table unavailable: the HTML page is not mod_status's")
        extended = bool(info["extended"])
        # Samples are kept for 15 minutes, one a second: they keep the rows of the slots at
        # work. Idle and open slots say nothing the scoreboard string does not already say,
        # and on a 150-slot server they are most of the table.
        busy = tuple(w for w in workers if w.mode not in QUIET_MODES)
        table = WorkerTable(busy, processes, extended, "" if extended else HINT_EXTENDED, read_at)
        tables.keep(table)
        return table

    def _get(self, url: str) -> str:
        if self._session is None or self._deadline is None:
            session = requests.Session()
            # Environment proxies and ~/.netrc would send a loopback status URL elsewhere.
            session.trust_env = False
            self._session, self._deadline = session, Deadline(session)
        started = time.monotonic()
        deadline = self._deadline
        try:
            with (
                deadline.limit(self._budget),
                self._session.get(
                    url,
                    timeout=(self.connect_timeout, self.read_timeout),
                    auth=self._auth,
                    verify=self.verify,
                    allow_redirects=False,
                    stream=True,
                    headers={"Accept-Encoding": "identity", "User-Agent": USER_AGENT},
                ) as resp,
            ):
                self._check_response(resp)
                return self._read_body(resp, started)
        except PollFailure:
            raise
        except (requests.RequestException, ValueError, OSError) as exc:
            if deadline.expired:  # cut by the deadline: the answer came too slowly
                self.close()
                raise self._overrun() from exc
            if isinstance(exc, requests.RequestException):
                raise self._classify(exc) from exc
            if isinstance(exc, UnicodeError):  # a header requests cannot read as text
                raise PollFailure(
                    "not-status", "the answer's headers are not text: not Apache's mod_status"
                ) from exc
            # a URL requests cannot use, a socket error
            raise PollFailure("error", f"{type(exc).__name__}: {exc}") from exc

    def _check_response(self, resp: requests.Response) -> None:
        code = resp.status_code
        if 200 <= code < 300:
            return
        if 300 <= code < 400:
            target = urljoin(resp.url, resp.headers.get("Location", "")) or "?"
            raise PollFailure(
                "http-error",
                f"HTTP {code}: redirected to {target}",
                "set the status URL to the address it redirects to (redirects are not followed)",
            )
        if code == 401:
            said = "user/password rejected" if self._auth else "the status page asks for a password"
            raise PollFailure("auth", f"HTTP 401: {said}", HINT_AUTH)
        if code == 403:
            raise PollFailure(
                "http-error",
                "HTTP 403: forbidden: the status page refuses this client",
                "allow it in <Location /server-status>: Require local / Require ip ADDRESS",
            )
        if code == 404:
            raise PollFailure(
                "http-error",
                "HTTP 404: no server-status here: enable mod_status and a "
                "<Location /server-status> block",
                "a2enmod status; <Location /server-status> SetHandler server-status </Location>",
            )
        raise PollFailure("http-error", f"HTTP {code} {resp.reason or ''}".rstrip())

    def _read_body(self, resp: requests.Response, started: float) -> str:
        length = resp.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > MAX_BYTES:
            raise self._too_big()
        chunks: list[bytes] = []
        total = 0
        for chunk in resp.iter_content(CHUNK):
            total += len(chunk)
            if total > MAX_BYTES:
                raise self._too_big()
            if time.monotonic() - started > self._budget:
                raise self._overrun()
            chunks.append(chunk)
        return clean_block(b"".join(chunks).decode(resp.encoding or "utf-8", errors="replace"))

    @property
    def _budget(self) -> float:
        """Seconds one request may take in all, however steadily its bytes trickle in."""
        return self.connect_timeout + 2 * self.read_timeout

    def _overrun(self) -> PollFailure:
        return PollFailure(
            "timeout",
            f"the answer did not finish within {self._budget:g}s: "
            "the server may be saturated (all workers busy)",
        )

    @staticmethod
    def _too_big() -> PollFailure:
        return PollFailure(
            "not-status", f"the answer is larger than {MAX_BYTES >> 20} MiB", HINT_NOT_STATUS
        )

    def _classify(self, exc: requests.RequestException) -> PollFailure:
        chain = list(_chain(exc))
        names = {type(e).__name__ for e in chain}
        if isinstance(exc, requests.exceptions.SSLError):
            return self._tls_failure(chain)
        if any(isinstance(e, ConnectionRefusedError) for e in chain):
            return PollFailure(
                "refused",
                f"connection refused: is Apache running / listening on {self._hostport}?",
                "start Apache, or set the status URL to the address it listens on",
            )
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return PollFailure(
                "timeout",
                f"no connection within {self.connect_timeout:g}s to {self._hostport}: "
                "the server may be saturated, or a firewall drops the packets",
            )
        if isinstance(exc, requests.exceptions.ReadTimeout) or "ReadTimeoutError" in names:
            return PollFailure(
                "timeout",
                f"no answer within {self.read_timeout:g}s: "
                "the server may be saturated (all workers busy)",
            )
        if "NameResolutionError" in names or "gaierror" in names:
            return PollFailure("error", f"cannot resolve the host in {self.url}")
        if "RemoteDisconnected" in names or "BadStatusLine" in names:
            return PollFailure(
                "error", f"{self._hostport} closed the connection without an HTTP answer"
            )
        if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
            return PollFailure("error", f"not a usable URL: {self.url}")
        return PollFailure("error", f"{type(exc).__name__}: {exc}")

    def _tls_failure(self, chain: list[BaseException]) -> PollFailure:
        text = " ".join(str(e) for e in chain)
        if "CERTIFICATE_VERIFY_FAILED" in text or any(
            type(e).__name__ == "SSLCertVerificationError" for e in chain
        ):
            return PollFailure(
                "error",
                "TLS: certificate not trusted; set status_verify = false to trust it",
                "set status_verify = false to trust it, or install the CA that signed it",
            )
        if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
            return PollFailure(
                "error",
                f"TLS handshake failed: {self._hostport} does not speak TLS",
                "use http:// for this port",
            )
        return PollFailure("error", "TLS handshake failed", "check the certificate and the port")
