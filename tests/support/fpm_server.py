"""A real PHP-FPM (Debian's ``php-fpm8.2``) on a unix socket in a temp directory, for tests.

The ``fpm`` fixture starts a private master with ``--nodaemonize`` from a config written into a
fresh world-readable directory: its pid file, error log, slowlog, pool socket and document root
are there, so tests run in parallel and never touch the system's php-fpm. One pool, ``www``,
``pm = dynamic`` with few children (two by default), ``pm.status_path = /fpm-status``.

``sleep.php?s=SECONDS`` allocates a few MB then sleeps, so a test can hold a child busy and
read, once it is done, its ``last request memory``. :func:`hold` sends such requests straight
to the pool's socket (FastCGI), each from a thread.

Options with indirect parametrisation::

    @pytest.mark.fpm
    @pytest.mark.parametrize("fpm", [{"status_listen": True, "max_children": 1}], indirect=True)
    def test_something(fpm): ...

When ``php-fpm8.2`` is missing the tests skip, except under ``CI=true``, where they fail.
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

from console.sources.fpm.fastcgi import FastCgiClient, FastCgiError, FcgiAnswer
from tests.support.need import unavailable
from tests.support.orphans import die_with_parent, end_process
from tests.support.wait import wait_for

FPM_BIN = Path(os.environ.get("LAMPTOP_TEST_FPM", "/usr/sbin/php-fpm8.2"))

SLEEP_PHP = """<?php
// Hold this child for ?s= seconds (at most 30) after allocating a few MB, so that its
// "last request memory" is well above nothing once it is done.
$s = isset($_GET['s']) ? (float) $_GET['s'] : 1.0;
$s = max(0.0, min(30.0, $s));
$block = str_repeat('x', 4 * 1024 * 1024);
usleep((int) ($s * 1000000));
header('Content-Type: text/plain');
echo 'slept ', $s, ' ', strlen($block), "\\n";
"""

HELLO_PHP = "<?php echo 'hello from php-fpm';\n"


@dataclass
class FpmServer:
    """One php-fpm master with one pool, ``www``."""

    root: Path
    pm: str = "dynamic"
    max_children: int = 2
    status_path: str | None = "/fpm-status"
    """``pm.status_path``; None: the pool has no status page."""
    status_listen: bool = False
    """Also answer the status page on :attr:`status_socket` (``pm.status_listen``)."""
    extensions: tuple[str, ...] = ()
    """PHP extensions to load (``mysqlnd``, ``mysqli``): php-fpm runs without php.ini."""
    proc: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        """The pool's ``listen`` socket."""
        return self.root / "run" / "www.sock"

    @property
    def status_socket(self) -> Path:
        """``pm.status_listen``'s socket (only with :attr:`status_listen`)."""
        return self.root / "run" / "status.sock"

    @property
    def target(self) -> str:
        """The status page on the pool's socket, as ``--fpm-status`` takes it."""
        return f"unix:{self.socket}:{self.status_path or '/fpm-status'}"

    @property
    def status_target(self) -> str:
        return f"unix:{self.status_socket}:{self.status_path or '/fpm-status'}"

    @property
    def conf_path(self) -> Path:
        return self.root / "php-fpm.conf"

    @property
    def error_log(self) -> Path:
        return self.root / "log" / "php-fpm.log"

    @property
    def slowlog(self) -> Path:
        return self.root / "log" / "www.slow.log"

    @property
    def docroot(self) -> Path:
        return self.root / "htdocs"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- files -----------------------------------------------------------------------------

    def write_files(self) -> None:
        for sub in ("run", "log", "htdocs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
            (self.root / sub).chmod(0o755)
        self.root.chmod(0o755)
        for name, text in (("sleep.php", SLEEP_PHP), ("hello.php", HELLO_PHP)):
            (self.docroot / name).write_text(text, encoding="utf-8")
            (self.docroot / name).chmod(0o644)
        self.conf_path.write_text(self.config(), encoding="utf-8")

    def config(self) -> str:
        lines = [
            "[global]",
            f"pid = {self.root}/run/php-fpm.pid",
            f"error_log = {self.error_log}",
            "log_level = notice",
            "daemonize = no",
            "",
            "[www]",
            f"listen = {self.socket}",
        ]
        if os.geteuid() == 0:
            # Children and the socket belong to www-data: Apache's children (www-data too)
            # may connect, an ordinary user may not.
            lines += [
                "user = www-data",
                "group = www-data",
                "listen.owner = www-data",
                "listen.group = www-data",
                "listen.mode = 0660",
            ]
        lines += [f"pm = {self.pm}", f"pm.max_children = {self.max_children}"]
        if self.pm == "dynamic":
            lines += [
                "pm.start_servers = 1",
                "pm.min_spare_servers = 1",
                "pm.max_spare_servers = 1",
            ]
        if self.status_path:
            lines.append(f"pm.status_path = {self.status_path}")
        if self.status_listen:
            lines.append(f"pm.status_listen = {self.status_socket}")
        lines += [
            "ping.path = /fpm-ping",
            f"slowlog = {self.slowlog}",
            "request_slowlog_timeout = 1s",
            "request_terminate_timeout = 60s",
            "catch_workers_output = yes",
            "php_admin_value[memory_limit] = 64M",
            "php_admin_flag[display_errors] = off",
        ]
        return "\n".join(lines) + "\n"

    # -- process ---------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> None:
        """Start php-fpm in the foreground and wait until the pool's socket answers."""
        if self.running:
            return
        self.write_files()
        cmd = [str(FPM_BIN), "--nodaemonize", "-n", "--fpm-config", str(self.conf_path)]
        for name in self.extensions:
            cmd += ["-d", f"extension={name}"]
        if os.geteuid() == 0:
            cmd.append("--allow-to-run-as-root")
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"},
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                self.proc = None
                raise RuntimeError(f"php-fpm exited at start: {err}\n{self.log_tail()}")
            if self._answers():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"php-fpm did not answer within {timeout}s\n{self.log_tail()}")

    def _answers(self) -> bool:
        sockets = [self.socket] + ([self.status_socket] if self.status_listen else [])
        for path in sockets:
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(0.5)
                    s.connect(str(path))
            except OSError:
                return False
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop php-fpm (SIGTERM, then SIGKILL of its group)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        end_process(proc, timeout)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.error_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- requests --------------------------------------------------------------------------

    def script_params(self, script: str, query: str = "") -> dict[str, str]:
        """The CGI variables a web server sends for ``/script?query`` in the docroot."""
        uri = f"/{script}?{query}" if query else f"/{script}"
        return {
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": f"/{script}",
            "SCRIPT_FILENAME": str(self.docroot / script),
            "DOCUMENT_ROOT": str(self.docroot),
            "REQUEST_URI": uri,
            "QUERY_STRING": query,
            "SERVER_NAME": "localhost",
            "REMOTE_ADDR": "127.0.0.1",
        }

    def run(self, script: str, query: str = "", timeout: float = 60.0) -> FcgiAnswer:
        """Request a script of the docroot on the pool's socket, and wait for its answer."""
        client = FastCgiClient(str(self.socket), connect_timeout=5.0, read_timeout=timeout)
        return client.request(self.script_params(script, query))

    def hold(self, n: int, seconds: float, query: str = "") -> list[threading.Thread]:
        """``n`` requests to ``sleep.php?s=seconds``, each holding a child (daemon threads;
        a request cut short when the pool stops is no error)."""

        def run() -> None:
            with contextlib.suppress(OSError, FastCgiError):
                self.run("sleep.php", query or f"s={seconds:g}", timeout=seconds + 60)

        threads = [threading.Thread(target=run, daemon=True) for _ in range(n)]
        for t in threads:
            t.start()
        return threads

    def sleeping(self) -> int:
        """How many children run sleep.php now, read from the process table (the status page
        cannot be asked once every child is taken)."""
        if self.proc is None:
            return 0
        try:
            children = psutil.Process(self.proc.pid).children()
        except psutil.NoSuchProcess:
            return 0
        busy = 0
        for child in children:
            with contextlib.suppress(psutil.Error):
                # A busy child's CPU time grows from its start; an idle one sits in accept().
                if child.status() == psutil.STATUS_SLEEPING and _in_nanosleep(child.pid):
                    busy += 1
        return busy

    def wait_sleeping(self, n: int) -> None:
        wait_for(lambda: self.sleeping() >= n, what=f"{n} children in sleep.php")


def _in_nanosleep(pid: int) -> bool:
    """Whether the process waits in a sleep (``usleep``) rather than in ``accept``."""
    try:
        wchan = Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False
    return "nanosleep" in wchan or "hrtimer" in wchan


def require_fpm() -> None:
    if not FPM_BIN.exists():
        unavailable(f"{FPM_BIN} (Debian php8.2-fpm) is not installed")


@contextlib.contextmanager
def running_fpm(**options: Any) -> Iterator[FpmServer]:
    """Start a php-fpm in its own world-readable temp directory; stop and remove it after."""
    require_fpm()
    # Short: a unix socket's path must fit in 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="lamptop-fpm-"))
    server = FpmServer(root=root, **options)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fpm(request: pytest.FixtureRequest) -> Iterator[FpmServer]:
    """A running php-fpm (pool www on a unix socket), stopped after the test."""
    with running_fpm(**dict(getattr(request, "param", None) or {})) as server:
        yield server
