"""Where a PHP-FPM pool's status page is read: the ``--fpm-status`` / ``[fpm] status`` syntax.

* ``http://127.0.0.1/fpm-status`` or ``https://...``: through the web server, which hands the
  path to the pool (Apache's ``SetHandler "proxy:unix:...|fcgi://localhost"``);
* ``unix:/run/php/php8.2-fpm.sock:/fpm-status``: FastCGI straight on the pool's socket (a bare
  socket path, ``/run/php/php8.2-fpm.sock``, means the same with ``/fpm-status``);
* ``tcp:127.0.0.1:9000:/fpm-status`` (``tcp:[::1]:9000:/fpm-status``): FastCGI over TCP.

The status path is the pool's ``pm.status_path``; ``?json&full`` is added when polling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from console.sources.status.http import split_url

DEFAULT_PATH = "/fpm-status"
#: Query items the poller sets itself (the page's format and detail).
_FORMAT_ITEMS = {"json", "full", "html", "xml", "openmetrics"}

Scheme = Literal["http", "https", "unix", "tcp"]

SYNTAX = (
    "use http://HOST/fpm-status, unix:/run/php/php8.2-fpm.sock:/fpm-status "
    "or tcp:HOST:PORT:/fpm-status"
)


class BadTarget(ValueError):
    """Not a status target; the message says what is accepted."""


@dataclass(frozen=True)
class FpmTarget:
    """A parsed target."""

    scheme: Scheme
    path: str
    """The status path (``/fpm-status``)."""
    socket_path: str = ""
    """The unix socket (``unix:`` only)."""
    host: str = ""
    port: int = 0
    url: str = ""
    """The status page's URL without credentials and query (``http``/``https`` only)."""
    auth: tuple[str, str] | None = None
    """``user:password`` given in the URL."""

    @property
    def fastcgi(self) -> bool:
        return self.scheme in ("unix", "tcp")

    @property
    def address(self) -> str | tuple[str, int]:
        """What the FastCGI client connects to: the socket's path or (host, port)."""
        return self.socket_path if self.scheme == "unix" else (self.host, self.port)

    @property
    def where(self) -> str:
        """The socket or ``host:port`` asked, for messages."""
        if self.scheme == "unix":
            return self.socket_path
        if self.scheme == "tcp":
            host = f"[{self.host}]" if ":" in self.host else self.host
            return f"{host}:{self.port}"
        return urlsplit(self.url).netloc

    def __str__(self) -> str:
        """The target as shown and recorded, never with a password."""
        if self.scheme in ("http", "https"):
            return self.url
        return f"{self.scheme}:{self.where}:{self.path}"


def _path(text: str) -> str:
    path = text.split("?", 1)[0].split("#", 1)[0]
    return path if path.startswith("/") and path != "/" else DEFAULT_PATH


def parse_target(text: str) -> FpmTarget:
    """Read one target; :class:`BadTarget` when it fits none of the forms."""
    given = text.strip()
    low = given.lower()
    if low.startswith(("http://", "https://")):
        url, auth = split_url(given)
        parts = urlsplit(url)
        if not parts.hostname:
            raise BadTarget(f"{given!r}: no host in the URL; {SYNTAX}")
        query = "&".join(
            q for q in parts.query.split("&") if q and q.split("=", 1)[0] not in _FORMAT_ITEMS
        )
        clean_url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))
        scheme: Scheme = "https" if parts.scheme == "https" else "http"
        return FpmTarget(scheme, parts.path or "/", url=clean_url, auth=auth)
    if low.startswith("unix:") or given.startswith("/"):
        rest = given[5:] if low.startswith("unix:") else given
        sock, sep, path = rest.rpartition(":/")
        if not sep or not sock:
            sock, path = rest, ""
        if not sock.startswith("/"):
            raise BadTarget(f"{given!r}: the socket must be an absolute path; {SYNTAX}")
        return FpmTarget("unix", _path("/" + path if path else ""), socket_path=sock)
    if low.startswith("tcp:"):
        rest = given[4:]
        hostport, sep, path = rest.partition(":/")
        host, colon, port = hostport.rpartition(":")
        if not colon:
            host, port = "127.0.0.1", hostport
        host = host.strip("[]") or "127.0.0.1"
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise BadTarget(f"{given!r}: no port; {SYNTAX}")
        return FpmTarget("tcp", _path("/" + path if sep else ""), host=host, port=int(port))
    raise BadTarget(f"{given!r} is not a PHP-FPM status target: {SYNTAX}")
