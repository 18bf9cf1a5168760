"""``lamptop record --metrics``: a real ``lamptop record`` process next to a real Apache with
mod_status, scraped over HTTP and read back with prometheus-client's own parsers."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import requests
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from tests.support.apache_server import ApacheServer, free_port, wait_busy
from tests.support.hostile import assert_inert
from tests.support.orphans import die_with_parent, end_process
from tests.support.paths import ROOT
from tests.support.wait import wait_for

pytestmark = pytest.mark.apache

#: Scripts held busy on the Apache: the first two twice each, the others once. Apache writes
#: the quote and the backslash as ``\"`` and ``\\`` on its status page.
HELD = (
    "/cgi-bin/sleep/plain",
    "/cgi-bin/sleep/plain",
    '/cgi-bin/sleep/q"uo\\te',
    '/cgi-bin/sleep/q"uo\\te',
    "/cgi-bin/sleep/a'b<c>",
    "/cgi-bin/sleep/%1b%5B31m%E2%80%AE",
)
SCRIPTS = 2
"""``[metrics] scripts``: the in-flight metric names two scripts, then ``other``."""


def access_line(n: int, status: int) -> str:
    return (
        f'10.0.0.{n % 250} - - [26/Nov/2026:15:01:35 +0000] "GET /app/{n}.php HTTP/1.1" '
        f'{status} 5 "-" "test"\n'
    )


def scrape(
    url: str, accept: str | None = None
) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """``/metrics`` as {sample name: {sorted labels: value}}, parsed by prometheus-client."""
    headers = {"Accept": accept} if accept else {}
    answer = requests.get(url, timeout=10, headers=headers)
    answer.raise_for_status()
    assert_inert(answer.text.replace("\n", " "), "the metrics page")
    parse = openmetrics_families if accept else text_string_to_metric_families
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in parse(answer.text):
        assert family.name.startswith("lamptop_"), family.name
        assert family.documentation, f"{family.name} has no HELP text"
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def by(
    metrics: dict[str, dict[tuple[tuple[str, str], ...], float]], name: str, key: str
) -> dict[str, float]:
    """One metric's values by one label."""
    return {dict(labels)[key]: v for labels, v in metrics.get(name, {}).items()}


@contextlib.contextmanager
def recording(
    tmp: Path, apache: ApacheServer, log: Path
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``lamptop record --metrics 127.0.0.1:PORT`` on ``log`` and the Apache's status page."""
    config = tmp / "lamptop.toml"
    config.write_text(
        f"[metrics]\nscripts = {SCRIPTS}\n\n"
        f'[[log]]\npath = "{log}"\nkind = "apache-access"\nname = "app"\n'
    )
    env = dict(os.environ) | {"XDG_CONFIG_HOME": str(tmp / "xdg"), "XDG_STATE_HOME": str(tmp)}
    for _ in range(3):
        port = free_port()
        url = f"http://127.0.0.1:{port}/metrics"
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "console.cli", "record", "--no-discover",
                "--config", str(config), "--status", apache.status_url,
                "--metrics", f"127.0.0.1:{port}",
            ],
            cwd=ROOT, env=env, text=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, preexec_fn=die_with_parent,
        )  # fmt: skip
        try:
            wait_for(partial(_started, proc, url), what="metrics served")
            if proc.poll() is not None:
                err = proc.stderr.read() if proc.stderr else ""
                if "already in use" in err:
                    continue  # another test took the port between choosing and binding it
                pytest.fail(f"lamptop record exited {proc.returncode}: {err}")
            yield proc, url
            return
        finally:
            end_process(proc, 15)
    pytest.fail("no free port in three tries")


def _started(proc: subprocess.Popen[str], url: str) -> bool:
    return proc.poll() is not None or _answers(url)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def hold(apache: ApacheServer, path: str, seconds: int, done: threading.Event) -> None:
    """One request sent as written (no client re-encodes it), its worker held ``seconds``."""
    with socket.create_connection(("127.0.0.1", apache.port), timeout=seconds + 30) as s:
        s.sendall(f"GET {path}?{seconds} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        with contextlib.suppress(OSError):
            while not done.is_set() and s.recv(4096):
                pass


def test_a_scrape_tells_workers_in_flight_scripts_lines_and_sources(
    apache: ApacheServer, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    before = [access_line(n, 500 if n % 10 == 0 else 200) for n in range(37)]
    log.write_text("".join(before))
    done = threading.Event()
    with recording(tmp_path, apache, log) as (proc, url):
        holders = [
            threading.Thread(target=hold, args=(apache, p, 25, done), daemon=True) for p in HELD
        ]
        for t in holders:
            t.start()
        wait_busy(apache, len(HELD))
        after = [access_line(n, 503 if n % 10 == 0 else 200) for n in range(37, 137)]
        with log.open("a") as out:
            out.writelines(after)

        seen: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}

        def settled() -> bool:
            nonlocal seen
            seen = scrape(url)
            flying = by(seen, "lamptop_apache_inflight_requests", "script")
            lines = by(seen, "lamptop_log_lines_total", "source")
            errors = by(seen, "lamptop_log_errors_total", "source")
            # lines count as they are read; errors once released from the recorder's reorder
            # window (half a second later): wait for both
            return (
                sum(flying.values()) == len(HELD)
                and lines.get("app") == 137
                and errors.get("app") == 14
            )

        wait_for(
            settled, what=f"{len(HELD)} requests in flight, 137 lines, 14 errors", why=lambda: seen
        )

        # workers by state sum to the slots: prefork's ServerLimit 10
        workers = by(seen, "lamptop_apache_workers", "state")
        limit = seen["lamptop_apache_workers_limit"][()]
        assert limit == 10
        assert sum(workers.values()) == limit
        assert workers["sending"] >= len(HELD)
        assert seen["lamptop_apache_workers_busy"][()] >= len(HELD)

        # the busiest scripts by name, the rest as "other": SCRIPTS + 1 series at most
        # (the quote and the backslash are Apache's escapes, read back whole from the labels)
        flying = by(seen, "lamptop_apache_inflight_requests", "script")
        assert flying == {
            "/cgi-bin/sleep/plain": 2,
            '/cgi-bin/sleep/q\\"uo\\\\te': 2,
            "other": 2,
        }
        oldest = by(seen, "lamptop_apache_inflight_oldest_seconds", "script")
        assert oldest.keys() == flying.keys()

        # every line counted, the 5xx ones as errors (waited for above); sources up
        up = by(seen, "lamptop_source_up", "source")
        assert up["app"] == 1
        assert [v for k, v in up.items() if "status" in k] == [1]
        assert seen["lamptop_process_cpu_seconds_total"][()] > 0
        assert seen["lamptop_process_resident_memory_bytes"][()] > 1_000_000
        assert seen["lamptop_memory_total_bytes"][()] >= seen["lamptop_memory_used_bytes"][()]

        # OpenMetrics when asked for it, the same figures
        om = scrape(url, accept="application/openmetrics-text; version=1.0.0")
        assert by(om, "lamptop_log_lines_total", "source")["app"] == 137
        assert sum(by(om, "lamptop_apache_workers", "state").values()) == limit

        # anything but /metrics is not served
        assert requests.get(url.replace("/metrics", "/other"), timeout=10).status_code == 404
        done.set()
        end_process(proc, 15)
        assert proc.returncode == 0
        out = proc.stdout.read() if proc.stdout else ""
        assert f"metrics for Prometheus at {url}" in out
    assert not _answers(url), "the port is closed when record stops"
