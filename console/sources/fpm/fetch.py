"""One read of a PHP-FPM status page, FastCGI or HTTP, with every failure put in words.

:class:`PageReader` is blocking and runs in a worker thread (see
:mod:`console.sources.fpm.poll`). It returns the page's bytes or raises
:class:`~console.sources.status.http.PollFailure`, whose message says what went wrong and whose
hint says what to change: the socket's owner and mode, the pool's ``pm.status_path``, its
``pm.status_listen``, the web server's handler.
"""

from __future__ import annotations

import time

import requests

from console import __version__
from console.core.text import bound, clean
from console.sources.fpm.fastcgi import AnswerTooBig, ConnectTimeout, FastCgiClient, FastCgiError
from console.sources.fpm.target import FpmTarget
from console.sources.fpm.words import (
    MAX_BYTES,
    busy_hint,
    denied,
    fpm_words,
    is_socket,
    refused,
    said,
    service_name,
    too_big,
)
from console.sources.status.deadline import Deadline
from console.sources.status.http import PollFailure, _chain

QUERY = "json&full"
USER_AGENT = f"lamptop/{__version__}"


class PageReader:
    """Reads the status page of one target, one request a call, blocking."""

    def __init__(
        self,
        target: FpmTarget,
        *,
        connect_timeout: float = 1.0,
        read_timeout: float = 2.0,
        queue_timeout: float = 30.0,
        auth: tuple[str, str] | None = None,
        verify: bool = True,
    ) -> None:
        self.target = target
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.queue_timeout = max(queue_timeout, read_timeout)
        """How long a request may wait in the pool's queue for a child."""
        self.auth = auth if auth is not None else target.auth
        self.verify = verify
        self.pool: str | None = None
        """The pool's name, once known (for hints)."""
        self._closed = False
        # Made here, not in the worker thread, so that cut() always finds what to cut.
        self._fcgi: FastCgiClient | None = None
        self._session: requests.Session | None = None
        self._deadline: Deadline | None = None
        if target.fastcgi:
            self._fcgi = FastCgiClient(
                target.address,
                connect_timeout=connect_timeout,
                read_timeout=self.queue_timeout,
                deadline=self.queue_timeout + self.budget,
                max_bytes=MAX_BYTES + 65536,
            )
        else:
            session = requests.Session()
            # Environment proxies and ~/.netrc would send a loopback status URL elsewhere.
            session.trust_env = False
            self._session, self._deadline = session, Deadline(session)

    @property
    def budget(self) -> float:
        """Seconds an answer may take once it began."""
        return self.connect_timeout + 2 * self.read_timeout

    def cut(self) -> None:
        """End a request that is waiting, now, and every later one: the reader is done."""
        self._closed = True
        if self._fcgi is not None:
            self._fcgi.cut()
        if self._deadline is not None:
            self._deadline.cut()

    def close(self) -> None:
        self.cut()
        if self._deadline is not None:
            self._deadline.close()
        if self._session is not None:
            self._session.close()

    def read(self) -> bytes:
        """The page's body; :class:`PollFailure` when there is none."""
        if self._closed:
            raise PollFailure("stopped", "the poller is closed")
        if self.target.fastcgi:
            return self._read_fastcgi()
        return self._read_http()

    # -- FastCGI ------------------------------------------------------------------------------

    def _read_fastcgi(self) -> bytes:
        assert self._fcgi is not None
        try:
            answer = self._fcgi.get(self.target.path, QUERY)
        except AnswerTooBig as exc:
            raise too_big() from exc
        except FastCgiError as exc:
            raise self._protocol(exc) from exc
        except TimeoutError as exc:
            raise self._timeout(connected=not isinstance(exc, ConnectTimeout)) from exc
        except OSError as exc:
            raise self._socket_error(exc) from exc
        if answer.status != 200:
            raise refused(
                answer.status,
                answer.reason,
                answer.body,
                said(answer.stderr),
                self.target.path,
                self.pool,
            )
        return answer.body

    def _protocol(self, exc: FastCgiError) -> PollFailure:
        where = self.target.where
        if self._closed:
            return PollFailure("stopped", "the poller is closed")
        if "closed the connection" in str(exc):
            why = (
                "php-fpm's listen.allowed_clients may not list this address"
                if self.target.scheme == "tcp"
                else "is this a php-fpm pool's socket?"
            )
            return PollFailure("error", f"{where} closed the connection without answering", why)
        return PollFailure(
            "not-status",
            f"{where} does not answer like php-fpm: {exc}",
            "give the pool's listen address (listen = in its pool config)",
        )

    def _timeout(self, *, connected: bool) -> PollFailure:
        pool = f"pool {self.pool}" if self.pool else self.target.where
        if connected:
            message = (
                f"no answer within {self.queue_timeout:g}s from {pool}: every child may be busy "
                "(pm.max_children reached), and the status request waits in the pool's queue"
            )
        else:
            message = (
                f"no connection within {self.connect_timeout:g}s to {self.target.where}: the "
                "pool's listen queue may be full, every child busy"
            )
        return PollFailure("timeout", message, busy_hint(self.pool))

    def _socket_error(self, exc: OSError) -> PollFailure:
        target = self.target
        where = target.where
        if target.scheme == "unix":
            service = service_name(where)
            if isinstance(exc, FileNotFoundError):
                return PollFailure(
                    "missing",
                    f"no such socket {where}: is php-fpm running? `systemctl status {service}`",
                    f"start it (systemctl start {service}), or give the pool's listen socket",
                )
            if isinstance(exc, PermissionError):
                return denied(where)
            if isinstance(exc, ConnectionRefusedError):
                if not is_socket(where):
                    return PollFailure(
                        "error",
                        f"{where} is not a socket",
                        "give the pool's listen socket (listen = in its pool config)",
                    )
                return PollFailure(
                    "refused",
                    f"connection refused on {where}: the socket is there but no php-fpm "
                    "listens on it (stopped or crashed)",
                    f"systemctl restart {service}",
                )
        elif isinstance(exc, ConnectionRefusedError):
            return PollFailure(
                "refused",
                f"connection refused on {where}: is php-fpm running and listening there?",
                f"check listen = {where} in the pool, and that php-fpm runs",
            )
        if isinstance(exc, ConnectionResetError | BrokenPipeError):
            return self._protocol(FastCgiError("closed the connection"))
        return PollFailure("error", f"{where}: {exc.strerror or type(exc).__name__}")

    # -- HTTP ---------------------------------------------------------------------------------

    def _read_http(self) -> bytes:
        assert self._session is not None and self._deadline is not None
        deadline = self._deadline
        url = self.target.url
        answered = False
        try:
            with (
                deadline.limit(self.connect_timeout + self.queue_timeout + self.budget),
                self._session.get(
                    f"{url}{'&' if '?' in url else '?'}{QUERY}",
                    timeout=(self.connect_timeout, self.queue_timeout),
                    auth=self.auth,
                    verify=self.verify,
                    allow_redirects=False,
                    stream=True,
                    headers={"Accept-Encoding": "identity", "User-Agent": USER_AGENT},
                ) as resp,
            ):
                answered = True
                deadline.reset(self.budget)
                body = self._body(resp)
                if resp.status_code != 200:
                    raise self._http_refused(resp, body)
                return body
        except PollFailure:
            raise
        except (requests.RequestException, ValueError, OSError) as exc:
            if self._closed:
                raise PollFailure("stopped", "the poller is closed") from exc
            if deadline.expired:
                raise self._timeout(connected=True) from exc
            raise self._http_error(exc, answered) from exc

    def _body(self, resp: requests.Response) -> bytes:
        length = resp.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > MAX_BYTES:
            raise too_big()
        chunks: list[bytes] = []
        total = 0
        started = time.monotonic()
        for chunk in resp.iter_content(65536):
            total += len(chunk)
            if total > MAX_BYTES:
                raise too_big()
            if time.monotonic() - started > self.budget:
                raise self._timeout(connected=True)
            chunks.append(chunk)
        return b"".join(chunks)

    def _http_refused(self, resp: requests.Response, body: bytes) -> PollFailure:
        code = resp.status_code
        if 300 <= code < 400:
            target = clean(bound(resp.headers.get("Location", "?"), 300))
            return PollFailure(
                "http-error",
                f"HTTP {code}: redirected to {target}",
                "give the address it redirects to (redirects are not followed)",
            )
        if code == 401:
            return PollFailure(
                "auth", "HTTP 401: the status page asks for a password", "put it in the URL"
            )
        if code in (404, 403) and fpm_words(body):
            return refused(code, resp.reason or "", body, "", self.target.path, self.pool)
        path = self.target.path
        if code == 404:
            return PollFailure(
                "http-error",
                f"HTTP 404: the web server does not send {path} to php-fpm",
                f'<Location {path}> SetHandler "proxy:unix:/run/php/php8.2-fpm.sock|'
                'fcgi://localhost" </Location> (Debian: a2enmod proxy_fcgi)',
            )
        if code == 403:
            return PollFailure(
                "http-error",
                f"HTTP 403: the web server refuses this client {path}",
                f"allow it in <Location {path}>: Require local",
            )
        if code in (502, 503):
            return PollFailure(
                "http-error",
                f"HTTP {code}: the web server cannot reach php-fpm (is php-fpm running?)",
                "its error log says why (proxy_fcgi: AH01079, AH02454)",
            )
        if code == 504:
            return PollFailure(
                "timeout",
                "HTTP 504: php-fpm did not answer the web server in time: every child may be busy",
                busy_hint(self.pool),
            )
        return PollFailure("http-error", f"HTTP {code} {clean(bound(resp.reason or '', 80))}")

    def _http_error(self, exc: BaseException, answered: bool) -> PollFailure:
        chain = list(_chain(exc))
        names = {type(e).__name__ for e in chain}
        where = self.target.where
        if isinstance(exc, requests.exceptions.SSLError):
            return PollFailure("error", "TLS handshake failed", "check the certificate and port")
        if any(isinstance(e, ConnectionRefusedError) for e in chain):
            return PollFailure(
                "refused",
                f"connection refused: is the web server listening on {where}?",
                "start it, or give the address it listens on",
            )
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return PollFailure(
                "timeout", f"no connection within {self.connect_timeout:g}s to {where}"
            )
        if isinstance(exc, requests.exceptions.ReadTimeout) or "ReadTimeoutError" in names:
            return self._timeout(connected=True)
        if "NameResolutionError" in names or "gaierror" in names:
            return PollFailure("error", f"cannot resolve the host in {self.target.url}")
        if "RemoteDisconnected" in names or not answered:
            return PollFailure("error", f"{where} closed the connection without an HTTP answer")
        return PollFailure("error", f"{type(exc).__name__}: {clean(bound(str(exc), 200))}")
