"""One keep-alive HTTP connection to the status page, as a saturated Apache allows it.

Under saturation every worker is busy and a new connection waits in the listen queue until
one frees up; the connection lamptop already holds is served by a worker of its own (prefork)
for as many requests as ``MaxKeepAliveRequests`` lets it. So:

* a request on a new connection may wait ``queue_timeout`` for its first byte: giving up
  sooner would only put the next try at the back of the queue;
* once the answer begins, the rest of it gets ``connect + 2 x read timeout`` in all
  (:class:`~console.sources.status.deadline.Deadline`: a server that drips is cut);
* :attr:`StatusConnection.remaining` is what the server said of its keep-alive (``Keep-Alive:
  max=N``): how many more requests this connection will be served, so that the poller can open
  the next one before the server closes this one.

Failures are :class:`PollFailure` values in words a person can act on (refused, timeout, HTTP
error, password, not a status page, TLS).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import requests

from console import __version__
from console.core.events import SourceStatus
from console.core.text import clean_block
from console.sources.status.deadline import Deadline

#: Largest answer read; a status page of 1,000 busy workers is well under 1 MiB.
MAX_BYTES = 4 * 1024 * 1024
#: Sent with every poll, so lamptop can tell its own requests in the access log.
USER_AGENT = f"lamptop/{__version__}"
CHUNK = 64 * 1024

HINT_AUTH = "set status user/password in config or LAMPTOP_STATUS_PASSWORD"
HINT_NOT_STATUS = (
    "point the status URL at mod_status: a <Location /server-status> with SetHandler server-status"
)
_KEEP_ALIVE_MAX = re.compile(r"\bmax=(\d+)")
_KEEP_ALIVE_TIMEOUT = re.compile(r"\btimeout=(\d+)")


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


class StatusConnection:
    """A :class:`requests.Session` that holds one keep-alive connection to the status page."""

    def __init__(
        self,
        url: str,
        *,
        auth: tuple[str, str] | None,
        verify: bool,
        connect_timeout: float,
        read_timeout: float,
        queue_timeout: float,
    ) -> None:
        self.url = url
        """The status page URL, for messages."""
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.queue_timeout = max(queue_timeout, read_timeout)
        self.verify = verify
        self._auth = auth
        parts = urlsplit(url)
        self._hostport = _host_port(parts.scheme, parts.netloc)
        self._session: requests.Session | None = None
        self._deadline: Deadline | None = None
        self.remaining: int | None = None
        """Requests the server will still answer on this connection, as its last answer said
        (``Keep-Alive: max=N``; 0 with ``Connection: close``); None: not said."""
        self.requests = 0
        """Requests answered on this session."""
        self.idle_timeout: float | None = None
        """Seconds the server keeps this connection open between requests (``Keep-Alive:
        timeout=N``, Apache's ``KeepAliveTimeout``); None: not said."""

    def cut(self) -> None:
        """End a request that is waiting, now (its caller gets a failure)."""
        if self._deadline is not None:
            self._deadline.cut()

    def close(self) -> None:
        if self._deadline is not None:
            self._deadline.close()
        if self._session is not None:
            self._session.close()
        self._session = self._deadline = None

    def get(self, url: str) -> str:
        """The text of ``url``; :class:`PollFailure` when there is none."""
        if self._session is None or self._deadline is None:
            session = requests.Session()
            # Environment proxies and ~/.netrc would send a loopback status URL elsewhere.
            session.trust_env = False
            self._session, self._deadline = session, Deadline(session)
        deadline = self._deadline
        answered: list[float] = []
        try:
            with (
                deadline.limit(self.connect_timeout + self.queue_timeout + self._budget),
                self._session.get(
                    url,
                    timeout=(self.connect_timeout, self.queue_timeout),
                    auth=self._auth,
                    verify=self.verify,
                    allow_redirects=False,
                    stream=True,
                    headers={"Accept-Encoding": "identity", "User-Agent": USER_AGENT},
                ) as resp,
            ):
                answered.append(time.monotonic())
                deadline.reset(self._budget)  # a worker answers: the rest of it must be quick
                self._keep_alive(resp)
                self._check_response(resp)
                return self._read_body(resp, answered[0])
        except PollFailure:
            raise
        except (requests.RequestException, ValueError, OSError) as exc:
            if deadline.expired:  # cut by the deadline: no worker, or the answer came too slowly
                self.close()
                raise (self._overrun() if answered else self._no_worker()) from exc
            if isinstance(exc, requests.RequestException):
                raise self._classify(exc) from exc
            if isinstance(exc, UnicodeError):  # a header requests cannot read as text
                raise PollFailure(
                    "not-status", "the answer's headers are not text: not Apache's mod_status"
                ) from exc
            # a URL requests cannot use, a socket error
            raise PollFailure("error", f"{type(exc).__name__}: {exc}") from exc

    def _keep_alive(self, resp: requests.Response) -> None:
        """Note what the server says of this connection's future."""
        self.requests += 1
        if "close" in resp.headers.get("Connection", "").lower():
            self.remaining = 0
        else:
            header = resp.headers.get("Keep-Alive", "")
            said = _KEEP_ALIVE_MAX.search(header)
            self.remaining = int(said.group(1)) if said else None
            idle = _KEEP_ALIVE_TIMEOUT.search(header)
            self.idle_timeout = float(idle.group(1)) if idle else None

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

    def _no_worker(self) -> PollFailure:
        return PollFailure(
            "timeout",
            f"no answer within {self.queue_timeout:g}s: "
            "the server may be saturated (all workers busy)",
        )

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
            return self._no_worker()
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
