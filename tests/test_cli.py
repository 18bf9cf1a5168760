from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import main
from tests.support.paths import FIXTURES


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    ("path", "kind", "count"),
    [
        ("apache/access_combined.log", "apache-access", None),
        ("apache/error.log", "apache-error", None),
        ("php/error.log", "php-error", None),
        ("mysql/slow.log", "mysql-slow", None),
        ("mysql/error.log", "mysql-error", None),
        ("php/fpm.log", "php-fpm", None),
        ("php/fpm_slow.log", "php-fpm-slow", None),
        ("mysql/general.log", "mysql-general", None),
        ("php/fpm_access.log", "php-fpm-access", None),
    ],
)
def test_parse_detects_the_kind_and_prints_json_lines(
    capsys: pytest.CaptureFixture[str], path: str, kind: str, count: int | None
) -> None:
    code, out, _ = run(capsys, "parse", str(FIXTURES / path))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows and all(r["kind"] == kind for r in rows)
    assert set(rows[0]) == {
        "ts",
        "source",
        "kind",
        "level",
        "text",
        "lines",
        "fields",
        "ts_from_line",
    }
    assert sum(r["level"] != "unparsed" for r in rows) / len(rows) >= 0.99


def test_parse_counts_match_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    access = FIXTURES / "apache/access_combined.log"
    _, out, _ = run(capsys, "parse", str(access), "--kind", "apache-access")
    assert len(out.splitlines()) == len(access.read_text(errors="replace").splitlines())
    slow = FIXTURES / "mysql/slow.log"
    _, out, _ = run(capsys, "parse", str(slow))
    queries = [json.loads(x) for x in out.splitlines()]
    n = sum(1 for x in queries if x["fields"].get("event") == "query")
    assert n == slow.read_text().count("\n# Query_time:")


def test_parse_with_a_logformat(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text('10.0.0.1 [26/Nov/2026:15:01:35 +0000] "GET /a.php HTTP/1.1" 503 1234\n')
    code, out, _ = run(
        capsys, "parse", str(log), "--kind", "apache-access", "--format", '%h %t "%r" %>s %D'
    )
    assert code == 0
    row = json.loads(out)
    assert row["fields"]["status"] == 503 and row["fields"]["duration_us"] == 1234
    assert row["level"] == "error" and row["ts"] == "2026-11-26T15:01:35Z"


def test_parse_mod_status_pages(capsys: pytest.CaptureFixture[str]) -> None:
    auto = sorted((FIXTURES / "status/prefork").glob("auto_*.txt"))[5]
    code, out, _ = run(capsys, "parse", str(auto), "--kind", "mod-status")
    assert code == 0
    doc = json.loads(out)
    assert doc["mpm"] == "prefork" and len(doc["scoreboard"]) == doc["limit"] == 20
    html = sorted((FIXTURES / "status/prefork").glob("html_*.html"))[5]
    code, out, _ = run(capsys, "parse", str(html))
    assert code == 0 and json.loads(out)["extended"] is True


def test_parse_refuses_what_it_cannot_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "parse", str(tmp_path / "nope.log"))
    assert code == 1 and "No such file" in err
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\nworld\n")
    code, _, err = run(capsys, "parse", str(junk))
    assert code == 1 and "--kind" in err


def test_sources_reports_each_log_and_exits_1_when_nothing_is_readable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "later.log"
    code, out, err = run(
        capsys, "sources", "--no-discover", "--no-probe", "--log", f"{missing}=php-error", "--json"
    )
    assert code == 1
    doc = json.loads(out)
    assert doc["logs"][0]["state"] == "missing" and doc["logs"][0]["kind"] == "php-error"
    assert doc["status"]["state"] == "missing"

    present = tmp_path / "access.log"
    present.write_bytes((FIXTURES / "apache/access_combined.log").read_bytes()[:5000])
    code, out, _ = run(
        capsys,
        "sources",
        "--no-discover",
        "--no-probe",
        "--log",
        str(present),
        "--log",
        f"{missing}=php-error",
    )
    assert code == 0
    assert "access" in out and "apache-access" in out and "found" in out
    assert "missing" in out and "lamptop will read it from its first line" in out


def test_sources_probe_says_why_the_status_url_is_blind(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out, _ = run(
        capsys,
        "sources",
        "--no-discover",
        "--status",
        f"http://127.0.0.1:{port}/server-status",
        "--json",
    )
    doc = json.loads(out)
    assert code == 1
    assert doc["status"]["state"] == "refused"
    assert "connection refused" in doc["status"]["detail"]


def test_password_on_the_command_line_warns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(
        capsys,
        "sources",
        "--no-discover",
        "--no-probe",
        "--status",
        "http://ops:secret@127.0.0.1:9/server-status",
    )
    assert "visible to every user in `ps`" in err


def test_bad_config_is_a_message_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[status]\ninterval = 'soon'\n")
    code, _, err = run(capsys, "sources", "--config", str(cfg))
    assert code == 2 and "status.interval" in err and "Traceback" not in err


def test_help_and_version_from_the_installed_command() -> None:
    env = {**os.environ, "COLUMNS": "100"}
    out = subprocess.run(
        [sys.executable, "-m", "console.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert "examples:" in out and "lamptop sources" in out
    for sub in ("sources", "parse", "record"):
        text = subprocess.run(
            [sys.executable, "-m", "console.cli", sub, "--help"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout
        assert "examples:" in text, sub
    ver = subprocess.run(
        [sys.executable, "-m", "console.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ver.startswith("lamptop 0.")
