"""A real Apache httpd (Debian's ``/usr/sbin/apache2``) on loopback, for integration tests.

The ``apache`` fixture starts its own instance from a config written into a fresh directory:
its own port, pid file, logs and document root, so tests can run in parallel (pytest-xdist).
It loads the chosen MPM (``prefork`` by default) and authz_core, authz_host, status, mime,
dir, log_config, alias and cgi (cgid under threaded MPMs). A shell CGI, ``/cgi-bin/sleep``,
holds a worker busy for as many seconds as its query string says (``/cgi-bin/sleep?2``),
so a test can see a ``W`` slot with its request line on the status page.

With ``fpm_socket`` (a php-fpm pool's socket, see :mod:`tests.support.fpm_server`) it also
loads proxy and proxy_fcgi and hands ``*.php`` (``sleep.php`` is in its docroot) and
``/fpm-status`` to that pool, as Debian's ``php8.2-fpm`` conf does under the event MPM.

Choose the MPM, switch ExtendedStatus off or size prefork with ``max_workers``
(``MaxRequestWorkers``) with indirect parametrisation::

    @pytest.mark.apache
    @pytest.mark.parametrize("apache", ["event", {"mpm": "prefork", "extended": False}],
                             indirect=True)
    def test_something(apache): ...

When ``/usr/sbin/apache2`` is missing the tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from tests.support.need import unavailable
from tests.support.orphans import die_with_parent, end_process
from tests.support.wait import wait_for

APACHE_BIN = Path(os.environ.get("LAMPTOP_TEST_APACHE", "/usr/sbin/apache2"))
MODULES_DIR = Path("/usr/lib/apache2/modules")

#: Per-MPM sizing: small, and fixed, so tests know the scoreboard length to expect.
MPM_CONF = {
    "prefork": """\
StartServers 5
MinSpareServers 5
MaxSpareServers 8
ServerLimit 10
MaxRequestWorkers 10
""",
    "event": """\
StartServers 2
ServerLimit 4
ThreadLimit 5
ThreadsPerChild 5
MaxRequestWorkers 20
MinSpareThreads 5
MaxSpareThreads 15
""",
    "worker": """\
StartServers 2
ServerLimit 4
ThreadLimit 5
ThreadsPerChild 5
MaxRequestWorkers 20
MinSpareThreads 5
MaxSpareThreads 15
""",
}

SLEEP_CGI = """\
#!/bin/sh
# Sleep for the number of seconds in the query string (digits only, at most 30), then answer.
s=$(printf '%s' "$QUERY_STRING" | tr -cd '0-9' | cut -c1-2)
[ -n "$s" ] || s=1
[ "$s" -le 30 ] || s=30
sleep "$s"
printf 'Content-Type: text/plain\\r\\n\\r\\nslept %s\\n' "$s"
"""

INDEX_HTML = """<!DOCTYPE html>
<html><head><title>lamptop test site</title></head>
<body><h1>It works!</h1><p>A plain page, not a status page.</p></body></html>
"""


def free_port() -> int:
    """A loopback TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class ApacheServer:
    """One Apache instance: its files, its port, and start/stop."""

    root: Path
    """Directory holding the config, logs, pid file and document root."""
    port: int
    mpm: str = "prefork"
    extended: bool = True
    """Whether the config says ``ExtendedStatus On`` (else ``Off``)."""
    max_workers: int | None = None
    """``MaxRequestWorkers`` (prefork only); None: the sizing of :data:`MPM_CONF`."""
    fpm_socket: Path | None = None
    """A php-fpm pool's socket: ``*.php`` and ``/fpm-status`` go there (mod_proxy_fcgi), and
    ``sleep.php`` is in the docroot; None: no PHP."""
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL, ending in ``/``."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def status_url(self) -> str:
        return f"{self.url}server-status"

    @property
    def private_status_url(self) -> str:
        """The status handler behind ``Require ip 192.0.2.1``: 403 for every test."""
        return f"{self.url}private-status"

    @property
    def sleep_url(self) -> str:
        """URL of the CGI that sleeps; append the seconds: ``sleep_url + "?2"``."""
        return f"{self.url}cgi-bin/sleep"

    @property
    def conf_path(self) -> Path:
        return self.root / "httpd.conf"

    @property
    def access_log(self) -> Path:
        return self.root / "logs" / "access.log"

    @property
    def error_log(self) -> Path:
        return self.root / "logs" / "error.log"

    @property
    def pid_file(self) -> Path:
        return self.root / "run" / "httpd.pid"

    @property
    def docroot(self) -> Path:
        return self.root / "htdocs"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- files -----------------------------------------------------------------------------

    def write_files(self) -> None:
        for sub in ("logs", "run", "htdocs", "cgi-bin"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        for sub in ("htdocs", "cgi-bin"):
            (self.root / sub).chmod(0o755)
        (self.docroot / "index.html").write_text(INDEX_HTML, encoding="utf-8")
        (self.docroot / "index.html").chmod(0o644)
        if self.fpm_socket is not None:
            from tests.support.fpm_server import SLEEP_PHP

            (self.docroot / "sleep.php").write_text(SLEEP_PHP, encoding="utf-8")
            (self.docroot / "sleep.php").chmod(0o644)
        cgi = self.root / "cgi-bin" / "sleep"
        cgi.write_text(SLEEP_CGI, encoding="utf-8")
        cgi.chmod(0o755)
        self.conf_path.write_text(self.config(), encoding="utf-8")

    def config(self) -> str:
        threaded = self.mpm != "prefork"
        cgi_module = "cgid" if threaded else "cgi"
        modules = [
            f"mpm_{self.mpm}",
            "authz_core",
            "authz_host",
            "status",
            "mime",
            "dir",
            "alias",
            cgi_module,
        ]
        if self.fpm_socket is not None:
            modules += ["proxy", "proxy_fcgi"]
        lines = [
            f'ServerRoot "{self.root}"',
            f'DefaultRuntimeDir "{self.root}/run"',
            f'PidFile "{self.pid_file}"',
            f"Listen 127.0.0.1:{self.port}",
            "ServerName 127.0.0.1",
        ]
        lines += [f'LoadModule {m}_module "{MODULES_DIR}/mod_{m}.so"' for m in modules]
        if os.geteuid() == 0:
            # Children drop to www-data, so every file they read is world-readable.
            lines += ["User www-data", "Group www-data"]
        lines += [
            self.mpm_conf().rstrip(),
            "Timeout 30",
            "KeepAlive On",
            "KeepAliveTimeout 2",
            "HostnameLookups Off",
            f'ErrorLog "{self.error_log}"',
            "LogLevel warn",
            'LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"" '
            "combined",
            f'CustomLog "{self.access_log}" combined',
            "TypesConfig /dev/null",
            "AddType text/html .html",
            f'DocumentRoot "{self.docroot}"',
            f'<Directory "{self.docroot}">',
            "    Require all granted",
            "</Directory>",
            "DirectoryIndex index.html",
            f'ScriptAlias /cgi-bin/ "{self.root}/cgi-bin/"',
            f'<Directory "{self.root}/cgi-bin">',
            "    Options +ExecCGI",
            "    Require all granted",
            "</Directory>",
            f"ExtendedStatus {'On' if self.extended else 'Off'}",
            "<Location /server-status>",
            "    SetHandler server-status",
            "    Require local",
            "</Location>",
            "# The status handler, but only for an address no test connects from: answers 403.",
            "<Location /private-status>",
            "    SetHandler server-status",
            "    Require ip 192.0.2.1",
            "</Location>",
        ]
        if threaded:
            lines.append(f'ScriptSock "{self.root}/run/cgid.sock"')
        if self.fpm_socket is not None:
            handler = f'SetHandler "proxy:unix:{self.fpm_socket}|fcgi://localhost"'
            lines += [
                '<FilesMatch "\\.php$">',
                f"    {handler}",
                "</FilesMatch>",
                '<LocationMatch "^/(fpm-status|fpm-ping)$">',
                "    Require local",
                f"    {handler}",
                "</LocationMatch>",
            ]
        return "\n".join(lines) + "\n"

    def mpm_conf(self) -> str:
        n = self.max_workers
        if n is None:
            return MPM_CONF[self.mpm]
        if self.mpm != "prefork":
            raise ValueError("max_workers is for prefork only")
        spare = max(1, n // 2)
        return (
            f"StartServers {n}\nMinSpareServers {spare}\nMaxSpareServers {n}\n"
            f"ServerLimit {n}\nMaxRequestWorkers {n}\nListenBacklog 64\n"
        )

    # -- process ---------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> None:
        """Start Apache in the foreground and wait until it answers on its port."""
        if self.running:
            return
        self.write_files()
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
        self.proc = subprocess.Popen(
            [str(APACHE_BIN), "-f", str(self.conf_path), "-DFOREGROUND"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                self.proc = None
                raise RuntimeError(f"apache2 exited at start: {err}\n{self.error_tail()}")
            if port_open(self.port) and self._answers():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"apache2 did not answer within {timeout}s\n{self.error_tail()}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as s:
                s.sendall(b"GET /server-status?auto HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                return s.recv(12).startswith(b"HTTP/1.")
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Apache (SIGTERM, then SIGKILL of its group) and wait for the port to close."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        # children of the group (CGI sleeps) may linger; they hold no listening socket
        end_process(proc, timeout)
        deadline = time.monotonic() + timeout
        while port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def error_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.error_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def hold_workers(apache: ApacheServer, n: int, seconds: int) -> list[threading.Thread]:
    """``n`` requests to the sleeping CGI, each holding a worker for ``seconds`` (daemon
    threads; a request cut short when the server stops is no error)."""

    def get() -> None:
        try:
            requests.get(f"{apache.sleep_url}?{seconds}", timeout=seconds + 30)
        except requests.RequestException:
            pass

    threads = [threading.Thread(target=get, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    return threads


def busy_workers(apache: ApacheServer) -> int:
    """How many sleeping CGIs of this Apache run now (read from the process table: the status
    page cannot be asked once the workers are taken, it would wait in the queue)."""
    script = str(apache.root / "cgi-bin" / "sleep")
    running = 0
    for proc in psutil.process_iter(["cmdline"]):
        if script in (proc.info.get("cmdline") or []):
            running += 1
    return running


def wait_busy(apache: ApacheServer, n: int) -> None:
    """Wait until ``n`` sleeping CGIs of this Apache run."""
    wait_for(lambda: busy_workers(apache) >= n, what=f"{n} busy workers")


def require_tool(name: str, package: str) -> str:
    """The path of the program ``name`` from Debian's ``package``, or :func:`unavailable`."""
    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} ({package}) is not installed")
    return found


def require_apache() -> None:
    if not (APACHE_BIN.exists() and (MODULES_DIR / "mod_status.so").exists()):
        unavailable(f"{APACHE_BIN} (Debian apache2) is not installed")


def _options(param: Any) -> dict[str, Any]:
    if param is None:
        return {}
    if isinstance(param, str):
        return {"mpm": param}
    return dict(param)


@contextlib.contextmanager
def running_apache(
    mpm: str = "prefork",
    extended: bool = True,
    max_workers: int | None = None,
    fpm_socket: Path | None = None,
) -> Iterator[ApacheServer]:
    """Start an instance in its own world-readable temp directory; stop and remove it after."""
    require_apache()
    root = Path(tempfile.mkdtemp(prefix="lamptop-apache-"))
    server: ApacheServer | None = None
    try:
        for attempt in range(3):
            server = ApacheServer(
                root=root,
                port=free_port(),
                mpm=mpm,
                extended=extended,
                max_workers=max_workers,
                fpm_socket=fpm_socket,
            )
            try:
                server.start()
                break
            except RuntimeError:
                # Another test may have taken the port between choosing and binding it.
                if attempt == 2 or "Address already in use" not in server.error_tail():
                    raise
                server.error_log.unlink(missing_ok=True)
        assert server is not None
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def apache(request: pytest.FixtureRequest) -> Iterator[ApacheServer]:
    """A running Apache on 127.0.0.1 (prefork unless parametrised), stopped after the test."""
    opts = _options(getattr(request, "param", None))
    with running_apache(**opts) as server:
        yield server
