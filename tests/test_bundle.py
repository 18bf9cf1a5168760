from __future__ import annotations

import errno
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.core.clock import ManualClock
from console.core.events import (
    LogRecord,
    ProcInfo,
    ServiceMem,
    SourceState,
    StatusSample,
    SystemSample,
    Worker,
)
from console.core.recorder import Recorder
from console.incident import bundle as bundle_mod
from console.incident import private_dir
from console.incident.bundle import BundleError, write_bundle
from console.incident.bundle_read import read_bundle
from console.incident.report import logs_text
from console.incident.rules import Trigger

T0 = datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)
MB = 1024**2


def filled_recorder() -> Recorder:
    r = Recorder(reorder=0, clock=ManualClock(T0 + timedelta(seconds=400)))
    for sec in range(0, 400, 5):
        ts = T0 + timedelta(seconds=sec)
        r.add_records(
            [
                LogRecord(
                    ts=ts,
                    source="access",
                    kind="apache-access",
                    level="error" if sec % 20 == 0 else "info",
                    text=f"127.0.0.{sec % 3} GET /report.php {500 if sec % 20 == 0 else 200}",
                    fields={
                        "status": 500 if sec % 20 == 0 else 200,
                        "url": "/report.php?m=1",
                        "client": f"127.0.0.{sec % 3}",
                    },
                ),
                LogRecord(
                    ts=ts,
                    source="php",
                    kind="php-error",
                    level="error",
                    text="PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted",
                    lines=("Stack trace:", "#0 {main}"),
                    fields={"php_level": "Fatal error"},
                ),
            ]
        )
        r.add_status(
            StatusSample(
                ts=ts,
                url="http://127.0.0.1/server-status",
                fields={"Total Accesses": sec},
                scoreboard="WWW__",
                counts={"W": 3, "_": 2},
                busy=3,
                idle=2,
                limit=5,
                extended=True,
                workers=(
                    Worker(
                        "0-0",
                        4242,
                        "W",
                        1.5,
                        12.0,
                        0.0,
                        "127.0.0.9",
                        "shop",
                        "GET /report.php?m=1 HTTP/1.1",
                    ),
                ),
            )
        )
        r.add_system(
            SystemSample(
                ts=ts,
                mem_total=1024 * MB,
                mem_used=(400 + sec) * MB,
                mem_available=0,
                swap_total=512 * MB,
                swap_used=0,
                load1=1.0,
                load5=1.0,
                load15=1.0,
                cpu_percent=5,
                services=(ServiceMem("apache", 300 * MB, 6),),
                top=(
                    ProcInfo(4242, "apache2", "/usr/sbin/apache2 -k start", 200 * MB, 150 * MB),
                    ProcInfo(4300, "php-fpm8.2", "php-fpm: pool www", 64 * MB, 0, new=True),
                ),
                rss_by_pid={4242: 200 * MB},
                scanned=True,
            )
        )
    r.set_state(
        SourceState(
            ts=T0,
            source="mysql-slow",
            kind="mysql-slow",
            status="unreadable",
            message="permission denied",
        )
    )
    r.release(force=True)
    return r


def trigger() -> Trigger:
    return Trigger(
        "rule", T0 + timedelta(seconds=390), "memory_high", "memory used 92%", {"percent": 92.0}
    )


def test_round_trip_permissions_and_contents(tmp_path: Path) -> None:
    snap = filled_recorder().snapshot()
    path = write_bundle(
        snap,
        trigger(),
        tmp_path / "snaps",
        window=120,
        host="web1",
        filter_desc={"regex": "500"},
        screen_svg="<svg/>",
    )
    assert path.name == "20261126T150630Z-web1-memory_high"
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    names = sorted(p.name for p in path.iterdir())
    assert names == ["logs.txt", "report.html", "report.md", "screen.svg", "snapshot.json"]
    for p in path.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    doc = json.loads((path / "snapshot.json").read_text())
    assert doc["schema_version"] == 3
    assert doc["trigger"] == {
        "kind": "rule",
        "rule": "memory_high",
        "at": "2026-11-26T15:06:30Z",
        "message": "memory used 92%",
        "values": {"percent": 92.0},
    }
    assert doc["window"] == {"start": "2026-11-26T15:04:30Z", "end": "2026-11-26T15:06:40Z"}
    assert doc["filter"] == {"regex": "500"}
    # the window reaches back 120 s before the trigger: 15:04:30 .. 15:06:35 = 26 steps
    assert len(doc["status"]) == 26
    assert len(doc["records"]) == 52

    snap2, meta = read_bundle(path)
    assert meta["host"] == "web1"
    assert [r.text for r in snap2.records] == [r["text"] for r in doc["records"]]
    assert snap2.records[1].lines == ("Stack trace:", "#0 {main}")
    assert snap2.status[-1].workers[0].request == "GET /report.php?m=1 HTTP/1.1"
    assert [s.mem_used for s in snap2.system] == [s["mem_used"] for s in doc["system"]]
    assert snap2.system[-1].rss_by_pid == {4242: 200 * MB}
    assert [p.new for p in snap2.system[-1].top] == [False, True]  # born in the window
    assert snap2.states["mysql-slow"].status == "unreadable"

    report = (path / "report.md").read_text()
    assert "rule `memory_high`" in report
    assert "/report.php" in report and "200 MB" in report
    assert "permission denied" in report
    logs = (path / "logs.txt").read_text().splitlines()
    assert any(line.startswith("    Stack trace:") for line in logs)


def test_two_saves_in_one_second_do_not_collide(tmp_path: Path) -> None:
    snap = filled_recorder().snapshot()
    a = write_bundle(snap, trigger(), tmp_path, host="h")
    b = write_bundle(snap, trigger(), tmp_path, host="h")
    assert a != b and a.exists() and b.exists()


def test_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "file-not-dir"
    target.write_text("x")
    with pytest.raises(BundleError, match="cannot create"):
        write_bundle(filled_recorder().snapshot(), trigger(), target / "snaps")


def test_disk_full_keeps_what_was_written_and_says_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    calls = {"n": 0}

    def full_after_first_file(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] > 1 and len(data) > 200:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(bundle_mod.os, "write", full_after_first_file)
    with pytest.raises(BundleError) as err:
        write_bundle(filled_recorder().snapshot(), trigger(), tmp_path, host="h")
    msg = str(err.value)
    assert "disk full" in msg and "snapshot.json" in msg and "PARTIAL" in msg
    partial = next(tmp_path.glob("*-PARTIAL"))
    assert (partial / "snapshot.json").exists()
    assert "PARTIAL" in (partial / "PARTIAL.txt").read_text()
    assert not (partial / "report.md").exists()


def test_damaged_and_newer_bundles(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no snapshot.json"):
        read_bundle(tmp_path)
    (tmp_path / "snapshot.json").write_text('{"schema_version": 1, "records": [')
    with pytest.raises(BundleError, match="damaged"):
        read_bundle(tmp_path)
    (tmp_path / "snapshot.json").write_text('{"schema_version": 99}')
    with pytest.raises(BundleError, match="newer lamptop"):
        read_bundle(tmp_path)
    (tmp_path / "snapshot.json").write_text('{"schema_version": 1, "created_at": "x"}')
    with pytest.raises(BundleError, match="damaged"):
        read_bundle(tmp_path)


# -- streamed writing ---------------------------------------------------------------------------


def test_snapshot_json_is_bundle_data_one_record_per_line(tmp_path: Path) -> None:
    snap = filled_recorder().snapshot()
    path = write_bundle(snap, trigger(), tmp_path, window=120, host="web1", filter_desc={"x": 1})
    text = (path / "snapshot.json").read_text()
    start, end = T0 + timedelta(seconds=270), snap.taken_at
    doc = bundle_mod.bundle_data(snap, trigger(), host="web1", start=start, end=end)
    doc["filter"] = {"x": 1}
    assert json.loads(text) == json.loads(json.dumps(doc))
    lines = text.splitlines()
    assert len([ln for ln in lines if ln.startswith('{"ts": ')]) == 52 + 26 + 26
    assert lines[0].startswith('{"schema_version": 3, ') and lines[-1].endswith("}")
    for ln in lines:
        if ln.startswith('{"ts": '):
            json.loads(ln.rstrip(","))  # each sample and record is whole on its line


def test_a_big_bundle_is_written_in_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    sizes: list[int] = []

    def counting(fd: int, data: bytes) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("snapshot.json"):
            sizes.append(len(data))
        return real_write(fd, data)

    monkeypatch.setattr(private_dir, "_BUFFER", 4096)
    monkeypatch.setattr(bundle_mod, "_BATCH", 5)
    monkeypatch.setattr(bundle_mod.os, "write", counting)
    snap = filled_recorder().snapshot()
    path = write_bundle(snap, trigger(), tmp_path, host="h")
    size = (path / "snapshot.json").stat().st_size
    assert size > 20_000 and sum(sizes) == size
    assert len(sizes) > 5 and max(sizes) < 8192  # never the whole document at once
    assert len(json.loads((path / "snapshot.json").read_text())["records"]) == 124
    assert (path / "logs.txt").read_text().count("\n") == 124 + 62 * 2  # + stack traces


def test_disk_full_half_way_through_snapshot_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    calls = {"n": 0}

    def full_after_two_pieces(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(private_dir, "_BUFFER", 4096)
    monkeypatch.setattr(bundle_mod, "_BATCH", 5)
    monkeypatch.setattr(bundle_mod.os, "write", full_after_two_pieces)
    with pytest.raises(BundleError) as err:
        write_bundle(filled_recorder().snapshot(), trigger(), tmp_path, host="h")
    assert "disk full" in str(err.value) and "kept nothing" in str(err.value)
    assert "missing snapshot.json, report.md, logs.txt, report.html" in str(err.value)
    partial = next(tmp_path.glob("*-PARTIAL"))
    assert not (partial / "snapshot.json").exists()  # a cut document is not left behind
    assert stat.S_IMODE(partial.stat().st_mode) == 0o700


def _writes_by_file(monkeypatch: pytest.MonkeyPatch, fail_at: str = "") -> list[str]:
    """The names of the files written, one per ``os.write``; with ``fail_at``, the disk is full
    once that file is written after ``logs.txt`` was."""
    real_write = os.write
    names: list[str] = []

    def watching(fd: int, data: bytes) -> int:
        name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
        if name == fail_at and "logs.txt" in names:
            raise OSError(errno.ENOSPC, "No space left on device")
        names.append(name)
        return real_write(fd, data)

    monkeypatch.setattr(private_dir, "_BUFFER", 4096)
    monkeypatch.setattr(bundle_mod, "_BATCH", 5)
    monkeypatch.setattr(bundle_mod.os, "write", watching)
    return names


def test_logs_txt_goes_to_its_file_while_snapshot_json_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = _writes_by_file(monkeypatch)
    snap = filled_recorder().snapshot()
    path = write_bundle(snap, trigger(), tmp_path, host="h")
    # not held until its turn: its first buffer is written before snapshot.json's last
    last_json = len(names) - 1 - names[::-1].index("snapshot.json")
    assert names.index("logs.txt") < last_json
    start = trigger().at - timedelta(seconds=300)
    assert (path / "logs.txt").read_text() == logs_text(snap.window(start, snap.taken_at).records)


def test_disk_full_in_snapshot_json_leaves_no_cut_logs_txt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = _writes_by_file(monkeypatch, fail_at="snapshot.json")
    with pytest.raises(BundleError) as err:
        write_bundle(filled_recorder().snapshot(), trigger(), tmp_path, host="h")
    assert "logs.txt" in names  # it had begun
    assert "missing snapshot.json, report.md, logs.txt, report.html" in str(err.value)
    partial = next(tmp_path.glob("*-PARTIAL"))
    assert sorted(p.name for p in partial.iterdir()) == ["PARTIAL.txt"]
