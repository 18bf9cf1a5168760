"""The built-in incident of ``lamptop demo``, played through lamptop's real code paths.

A :class:`DemoScenario` (``console.demo.story``) simulates one small Apache 2.4 prefork +
mod_php + MariaDB server on a 1 GiB machine. Its logs are real files in a work directory
(combined access log, Apache error log, PHP error_log, MariaDB slow log) that lamptop's tails
follow; a :class:`DemoServer` on 127.0.0.1 answers ``/server-status?auto`` and the
ExtendedStatus page for lamptop's status poller; a :class:`DemoSystem` stands in for the psutil
sampler. One story clock drives all three: :class:`DemoSystem` steps the scenario, so logs,
pages and memory always agree. :class:`Demo` puts them together in a work directory of its own.

The story, its phases and its clock are described in ``console.demo.story``; this module is
the demo's public face and re-exports what callers use of it.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psutil

from console.core.config import Config, LogSpec, snapshot_dir
from console.core.events import SourceState, SourceStatus
from console.demo.pages import NOT_FOUND
from console.demo.stack import DemoMysql
from console.demo.story import (
    BUILD_UP_AT,
    GRACEFUL_AT,
    LOOP,
    OUTAGE_AT,
    RECOVERY_AT,
    DemoScenario,
    phase_at,
)
from console.sources import Sink

__all__ = [
    "BUILD_UP_AT",
    "GRACEFUL_AT",
    "LOOP",
    "OUTAGE_AT",
    "RECOVERY_AT",
    "Demo",
    "DemoMysql",
    "DemoScenario",
    "DemoServer",
    "DemoSystem",
    "exit_on_signals",
    "phase_at",
]


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 16), b""))


class DemoServer:
    """A threaded HTTP server on 127.0.0.1 answering like mod_status from a scenario."""

    def __init__(self, scenario: DemoScenario) -> None:
        self.scenario = scenario
        self.url: str | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Listen on a free loopback port; returns the status URL."""
        if self.url is not None:
            return self.url
        scenario = self.scenario

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10

            def version_string(self) -> str:
                return "Apache/2.4.71 (Debian)"

            def do_GET(self) -> None:
                self._answer(body=True)

            def do_HEAD(self) -> None:
                self._answer(body=False)

            def _answer(self, body: bool) -> None:
                parts = urlsplit(self.path)
                ctype = "text/html; charset=ISO-8859-1"
                if parts.path == "/fpm-status" and "json" in parts.query:
                    code, text = 200, scenario.fpm_status()
                    ctype = "application/json"
                elif parts.path.rstrip("/") != "/server-status":
                    code, text = 404, NOT_FOUND
                elif "auto" in parse_qs(parts.query, keep_blank_values=True):
                    code, text = 200, scenario.status_auto()
                    ctype = "text/plain; charset=ISO-8859-1"
                else:
                    code, text = 200, scenario.status_html()
                data = text.encode("latin-1", "replace")
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return  # the console owns the terminal

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, name="lamptop-demo-status", daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{httpd.server_address[1]}/server-status"
        return self.url

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.url = None


class DemoSystem:
    """The memory source of the demo: steps the scenario and reports its machine.

    Every ``interval / speed`` seconds it delivers a :class:`SystemSample` to the sink;
    between samples it steps the scenario a few times a second so that log lines arrive
    spread out. lamptop's own RSS and CPU are read from the real process.
    """

    def __init__(
        self,
        scenario: DemoScenario,
        sink: Sink,
        *,
        interval: float = 1.0,
        name: str = "system",
        tick: float = 0.25,
    ) -> None:
        self.scenario, self.sink = scenario, sink
        self.interval, self.name, self.tick = interval, name, tick
        self._sent: tuple[str, str] | None = None

    def _state(self, status: SourceStatus, message: str) -> None:
        if (status, message) != self._sent:
            self._sent = (status, message)
            self.sink.set_state(
                SourceState(
                    ts=self.scenario.now,
                    source=self.name,
                    kind="system",
                    status=status,
                    message=message,
                    target="simulated machine (demo)",
                )
            )

    async def run(self) -> None:
        scenario = self.scenario
        me = psutil.Process()
        me.cpu_percent(None)
        loop = asyncio.get_running_loop()
        period = self.interval / scenario.speed
        last = loop.time()
        due = last
        while True:
            now = loop.time()
            try:
                # After a suspend, play at most half a minute instead of the whole gap.
                scenario.step(min(30.0, (now - last) * scenario.speed))
            except OSError as exc:  # the work directory went away or filled up
                self._state("error", f"cannot write the demo's logs: {exc}")
            else:
                self._state("ok", "")
            last = now
            if now >= due:
                sample = scenario.system_sample()
                try:
                    sample = replace(
                        sample, self_rss=int(me.memory_info().rss), self_cpu=me.cpu_percent(None)
                    )
                except psutil.Error:
                    pass
                self.sink.add_system(sample)
                due = max(due + period, now)
            await asyncio.sleep(max(0.0, min(self.tick, due - loop.time())))


class Demo:
    """The whole demo: work directory, scenario and status server, as a context manager."""

    def __init__(
        self,
        *,
        seed: int = 1,
        speed: float = 1.0,
        workdir: Path | None = None,
        clock: Callable[[], datetime] | None = None,
        start_at: float = 0.0,
    ) -> None:
        self._own = workdir is None
        self.workdir = (
            Path(tempfile.mkdtemp(prefix="lamptop-demo-")) if workdir is None else workdir
        )
        try:
            self.scenario = DemoScenario(self.workdir, seed=seed, speed=speed, clock=clock)
            if start_at > 0:
                self.scenario.preroll(start_at)
        except BaseException:
            if self._own:
                shutil.rmtree(self.workdir, ignore_errors=True)
            raise
        self.server = DemoServer(self.scenario)
        self.url: str | None = None
        self._interval = 1.0

    def __enter__(self) -> Demo:
        self.url = self.server.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.stop()
        self.url = None
        if self._own:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def config(self, base: Config) -> Config:
        """``base`` watching the demo: its four logs and its status URL, nothing discovered.

        The logs are read from their first line (a preroll may have written more than
        ``backfill_lines``), and their zone-less times are read as UTC.
        """
        if self.url is None:
            raise RuntimeError("Demo.config() needs the demo started: use it in a with block")
        self._interval = base.system_interval
        p = self.scenario.paths
        logs = (
            LogSpec(path=str(p["access"]), kind="apache-access", name="access"),
            LogSpec(path=str(p["error"]), kind="apache-error", name="apache"),
            LogSpec(path=str(p["php"]), kind="php-error", name="php"),
            LogSpec(path=str(p["slow"]), kind="mysql-slow", name="mysql-slow"),
        )
        # the demo's bundles go to a folder of their own, named after the demo, never beside
        # (and never looking like) a real incident's
        bundles = base.snapshot_dir or str(snapshot_dir(base) / "demo")
        return replace(
            base,
            logs=logs,
            discover=False,
            snapshot_dir=bundles,
            status_url=self.url,
            fpm_status=(self.url.replace("/server-status", "/fpm-status"),),
            mysql=None,
            status_user=None,
            status_password=None,
            timezone="UTC",
            backfill_lines=max(base.backfill_lines, *(_count_lines(path) for path in p.values())),
        )

    def system_source(self, sink: Sink) -> DemoSystem:
        """The simulated memory source; it also steps the story."""
        return DemoSystem(self.scenario, sink, interval=self._interval)

    def extra_sources(self, sink: Sink) -> Sequence[tuple[str, DemoMysql]]:
        """The simulated MariaDB: its processlist, read from the story."""
        return [("mysql", DemoMysql(self.scenario, sink))]


def _exit(code: int) -> None:
    raise SystemExit(code)


def _ignore(signum: int, frame: FrameType | None) -> None:
    return


@contextmanager
def exit_on_signals() -> Iterator[None]:
    """While inside, SIGHUP and SIGTERM end the process with :class:`SystemExit`.

    Their default action ends the process at once, so the terminal closing or a ``kill`` would
    leave the demo's work directory behind; as an exception they unwind the ``with`` blocks
    and :class:`Demo` removes its directory. The exit status is 128 + the signal's number, as
    a shell reports it.

    When the signal arrives while an event loop runs (the console), the exception is raised
    from a callback of that loop, between two of its steps, where every task waits at an
    ``await``: asyncio then cancels them and the console shuts down as on a quit, restoring
    the terminal and stopping its input thread. Raised at whatever line the signal lands on, it
    could leave that non-daemon thread running and the process hanging.

    The first signal wins: the others do nothing, so that a second hangup cannot cut the
    clean-up short. So does SIGCONT from then on, which the kernel sends with a hangup to a
    session leader: Textual's handler for it would bring the console back onto a terminal that
    is gone. A signal ignored on entry (``nohup``) stays ignored; SIGHUP and SIGTERM get their
    handlers back on leaving. Main thread only, as every ``signal.signal`` call.
    """
    chosen = (signal.SIGHUP, signal.SIGTERM)
    caught: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        if caught:
            return
        caught.append(signum)
        signal.signal(signal.SIGCONT, _ignore)  # the process continues all the same
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            raise SystemExit(128 + signum)
        loop.call_soon_threadsafe(_exit, 128 + signum)

    previous = {}
    for sig in chosen:
        if signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
