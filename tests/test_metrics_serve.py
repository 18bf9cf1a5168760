"""Where and how ``lamptop record --metrics`` listens: addresses refused in words, a busy port,
the routes, the bound on scrapes at once, and the figures read from the event loop."""

from __future__ import annotations

import asyncio
import errno
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

import console.commands.metrics_server as ms
from console.commands.metrics_server import (
    MAX_SCRAPES,
    MetricsError,
    MetricsServer,
    _bind_error,
    routes,
    start_metrics,
)
from console.core.clock import ManualClock
from console.core.config import Config, ConfigError, from_mapping, load
from console.core.listen import ListenError, parse_listen
from console.core.recorder import Recorder
from console.incident.rule_base import Trigger
from console.incident.rules import RuleBook, build_rules
from console.incident.watch import IncidentWatch
from tests.support.apache_server import free_port
from tests.support.cli import lamptop
from tests.support.wait import wait_for
from tests.test_metrics_export import status

T0 = datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("127.0.0.1:9177", ("127.0.0.1", 9177)),
        ("[::1]:9177", ("::1", 9177)),
        ("0.0.0.0:80", ("0.0.0.0", 80)),
        ("localhost:9177", ("localhost", 9177)),
    ],
)
def test_addresses_read(text: str, want: tuple[str, int]) -> None:
    assert parse_listen(text) == want


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("9177", "give the address to listen on too"),
        (":9177", "give the address to listen on too"),
        ("127.0.0.1", "expected HOST:PORT"),
        ("127.0.0.1:0", "between 1 and 65535"),
        ("127.0.0.1:99999", "between 1 and 65535"),
        ("http://127.0.0.1:9177/", "expected HOST:PORT"),
        ("\x1b]0;owned\x07:9177", "expected HOST:PORT"),
        ("a\u202eb:9177", "expected HOST:PORT"),
        pytest.param("x" * 5000 + ":1", "expected HOST:PORT", id="huge"),
    ],
)
def test_bad_addresses_are_refused_in_words(text: str, words: str) -> None:
    with pytest.raises(ListenError) as caught:
        parse_listen(text)
    said = str(caught.value)
    assert words in said
    assert "127.0.0.1:9177" in said  # an example of what works
    assert "\x1b" not in said and "\u202e" not in said
    assert len(said) < 300


def test_the_config_keys(tmp_path: Path) -> None:
    cfg = from_mapping({"metrics": {"listen": "127.0.0.1:9177", "scripts": 3}})
    assert (cfg.metrics, cfg.metrics_scripts) == ("127.0.0.1:9177", 3)
    assert Config().metrics is None
    with pytest.raises(ConfigError, match="metrics.scripts"):
        from_mapping({"metrics": {"scripts": 0}})
    bad = tmp_path / "bad.toml"
    bad.write_text('[metrics]\nlisten = "9177"\n')
    with pytest.raises(ConfigError, match="give the address"):
        load(str(bad), env={})
    good = tmp_path / "good.toml"
    good.write_text('[metrics]\nlisten = "127.0.0.1:9177"\n')
    assert load(str(good), env={}, overrides={"metrics": "[::1]:1"}).metrics == "[::1]:1"


def test_a_busy_port_is_said_in_words() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MetricsError) as caught:
            MetricsServer(f"127.0.0.1:{port}", routes(lambda e, s: [b""]))
    assert str(caught.value) == (
        f"--metrics 127.0.0.1:{port}: the port is already in use (another lamptop record, "
        "or an exporter?); choose another port"
    )


def test_an_address_of_another_machine_is_said_in_words() -> None:
    with pytest.raises(MetricsError, match="not an address of this machine"):
        MetricsServer("192.0.2.1:9177", routes(lambda e, s: [b""]))


def test_other_bind_failures_in_words() -> None:
    said = str(_bind_error("nohost.invalid:9177", socket.gaierror(-2, "Name not known")))
    assert said == "--metrics nohost.invalid:9177: no such address on this machine (Name not known)"
    said = str(_bind_error("127.0.0.1:80", OSError(errno.EACCES, "Permission denied")))
    assert "ports below 1024 need root" in said


def hello(environ: dict[str, object], start: object) -> list[bytes]:
    start("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
    return [b"lamptop_x 1\n"]


@pytest.fixture
def server() -> Iterator[MetricsServer]:
    for _ in range(3):
        try:
            srv = MetricsServer(f"127.0.0.1:{free_port()}", routes(hello))
            break
        except MetricsError:
            continue
    else:
        pytest.fail("no free port in three tries")
    yield srv
    srv.close()


def test_only_metrics_is_served(server: MetricsServer) -> None:
    assert requests.get(server.url, timeout=10).text == "lamptop_x 1\n"
    base = server.url.removesuffix("/metrics")
    assert "/metrics" in requests.get(base + "/", timeout=10).text
    for path in ("/other", "/metrics/x", "/%1b[2J", "/../etc/passwd"):
        got = requests.get(base + path, timeout=10)
        assert got.status_code == 404, path
        assert "\x1b" not in got.text


def test_a_collector_failure_is_a_500_with_one_line(server: MetricsServer) -> None:
    def broken(environ: dict[str, object], start: object) -> list[bytes]:
        raise ZeroDivisionError("a bug")

    server._server.set_app(routes(broken))
    got = requests.get(server.url, timeout=10)
    assert got.status_code == 500
    assert got.text == "lamptop: collecting failed: ZeroDivisionError\n"


def test_scrapes_at_once_are_bounded(server: MetricsServer) -> None:
    host, port = "127.0.0.1", int(server.url.rsplit(":", 1)[1].split("/")[0])
    silent = [socket.create_connection((host, port)) for _ in range(MAX_SCRAPES)]
    try:
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url, timeout=10)
    finally:
        for s in silent:
            s.close()
    wait_for(lambda: _scrapes(server.url), what="a scrape served once the silent clients left")


def _scrapes(url: str) -> bool:
    try:
        return requests.get(url, timeout=10).status_code == 200
    except requests.ConnectionError:
        return False


async def test_rule_fires_and_bundles_reach_the_scrape_from_the_loop(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    rec = Recorder(clock=clock)
    incidents = IncidentWatch(rec, RuleBook(build_rules({})), tmp_path / "snapshots", host="web1")
    told: list[str] = []
    incidents.on_trigger = lambda t, outcome, joined: told.append(str(t.rule))
    cfg = Config(metrics=f"127.0.0.1:{free_port()}")
    metrics = start_metrics(cfg, rec, incidents)
    try:
        for i in range(7):  # 9 of 10 workers busy for 6 s: workers_near_limit
            rec.add_status(status(clock.now(), "W" * 9 + "_", accesses=100 + i))
            clock.advance(1.0)
        await incidents.save(Trigger("key", clock.now()))
        text = await asyncio.to_thread(lambda: requests.get(metrics.url, timeout=10).text)
    finally:
        await asyncio.to_thread(metrics.close)
    assert told == ["workers_near_limit"]  # the console's own callback still runs
    got = {
        s.name: s for f in text_string_to_metric_families(text) for s in f.samples if not s.labels
    }
    fires = [
        s
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "lamptop_rule_fires_total"
    ]
    assert [(s.labels, s.value) for s in fires] == [({"rule": "workers_near_limit"}, 1.0)]
    assert got["lamptop_bundles_written_total"].value == 1
    assert got["lamptop_apache_workers_busy"].value == 9
    assert got["lamptop_apache_workers_limit"].value == 10


async def test_a_stalled_loop_serves_the_previous_figures(tmp_path: Path) -> None:
    rec = Recorder(clock=ManualClock(T0))
    incidents = IncidentWatch(rec, RuleBook(build_rules({})), tmp_path, host="web1")
    metrics = start_metrics(Config(metrics=f"127.0.0.1:{free_port()}"), rec, incidents)
    try:
        first = await asyncio.to_thread(lambda: requests.get(metrics.url, timeout=10).text)
        assert "lamptop_build_info" in first
        ms.LOOP_TIMEOUT, saved = 0.2, ms.LOOP_TIMEOUT
        try:
            pending = asyncio.get_running_loop().run_in_executor(
                None, lambda: requests.get(metrics.url, timeout=10)
            )
            time.sleep(0.6)  # noqa: ASYNC251 (on purpose: the loop is blocked: the scrape gives up waiting for it)
            answer = await pending
        finally:
            ms.LOOP_TIMEOUT = saved
        assert answer.status_code == 200
        assert "lamptop_build_info" in answer.text
    finally:
        await asyncio.to_thread(metrics.close)


def test_the_command_line_refuses_a_bad_address(tmp_path: Path) -> None:
    done = lamptop("record", "--no-discover", "--metrics", "9177", tmp=tmp_path)
    assert done.returncode == 2
    assert "--metrics '9177': give the address to listen on too" in done.stderr
    assert "started" not in done.stdout


def test_the_command_line_refuses_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = lamptop("record", "--no-discover", "--metrics", f"127.0.0.1:{port}", tmp=tmp_path)
    assert done.returncode == 2
    assert f"--metrics 127.0.0.1:{port}: the port is already in use" in done.stderr
    assert "started" not in done.stdout
    assert not (tmp_path / "lamptop").exists() or not any((tmp_path / "lamptop").iterdir())


def test_record_without_metrics_does_not_load_prometheus_client(tmp_path: Path) -> None:
    code = (
        "import sys, asyncio, io\n"
        "from console.commands.record import record\n"
        "from console.core.config import Config\n"
        f"cfg = Config(discover=False, snapshot_dir={str(tmp_path)!r})\n"
        "asyncio.run(record(cfg, duration=0.1, out=io.StringIO()))\n"
        "print(any(m.startswith('prometheus_client') for m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
