"""Events of every type, and a sink keeping them, for the stream's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from console.core.events import (
    LogRecord,
    ProcessRow,
    ProcInfo,
    ServerChild,
    ServiceMem,
    SourceState,
    StatusSample,
    SystemSample,
    Worker,
)
from console.core.fleet import RemoteAlert
from console.core.stack import FpmProcess, FpmSample, MysqlSample, MysqlThread
from console.core.wire import STREAM_VERSION, StreamHeader

T0 = datetime(2026, 11, 26, 15, 0, 0, 123456, tzinfo=UTC)

RECORDS = [
    LogRecord(T0, "apache-access", "apache-access", "error", "GET /x 500", fields={"status": 500}),
    LogRecord(
        T0 + timedelta(seconds=1),
        "php",
        "php-error",
        "crit",
        "PHP Fatal error: out of memory",
        lines=("#0 /var/www/a.php(3): f()", "#1 {main}"),
        fields={"script": "/var/www/a.php", "line": 3, "nested": {"a": [1, 2.5, None, True]}},
        ts_from_line=False,
    ),
    LogRecord(T0.replace(microsecond=0), "web", "apache-access", "info", "plain"),
]

STATUS = StatusSample(
    ts=T0,
    url="http://127.0.0.1/server-status",
    fields={"Total Accesses": 12, "CPULoad": 0.5, "ServerMPM": "prefork"},
    scoreboard="W_K..",
    counts={"W": 1, "_": 1, "K": 1, ".": 2},
    workers=(
        Worker("0-0", 101, "W", 0.1, 3.0, 12.5, "10.0.0.1", "example", "GET /a HTTP/1.1"),
        Worker("1-0", None, "_", 0.0, 0.0, 0.0, "", "", "", "http/1.1", 7),
    ),
    processes=(ProcessRow(0, 101, "no", 1, "yes", 1, 0, 2, 3),),
    server_version="Apache/2.4.62",
    mpm="prefork",
    uptime=99.0,
    total_accesses=12,
    total_kbytes=3.5,
    busy=2,
    idle=1,
    limit=5,
    extended=True,
)
SYSTEM = SystemSample(
    ts=T0,
    mem_total=8 << 30,
    mem_used=5 << 30,
    mem_available=3 << 30,
    swap_total=1 << 30,
    swap_used=1 << 20,
    load1=1.5,
    load5=1.0,
    load15=0.5,
    cpu_percent=42.0,
    cpu_count=4,
    services=(ServiceMem("apache", 300 << 20, 9),),
    top=(ProcInfo(101, "apache2", "/usr/sbin/apache2 -k start", 40 << 20, 1 << 20, 3.5, True),),
    rss_by_pid={101: 40 << 20},
    self_rss=30 << 20,
    self_cpu=1.5,
    scanned=True,
    children=(ServerChild(101, "S", 40 << 20, 2.0, 30.0),),
)
FPM = FpmSample(
    ts=T0,
    source="php-fpm:www",
    target="unix:/run/php/fpm.sock:/status",
    pool="www",
    process_manager="dynamic",
    start_time=1.0e9,
    accepted=10,
    listen_queue=0,
    max_listen_queue=1,
    listen_queue_len=511,
    idle=1,
    active=1,
    total=2,
    max_active=2,
    max_children_reached=0,
    slow_requests=0,
    processes=(
        FpmProcess(7, "Running", 1.0e9, 3, 1.5, "GET", "/a.php?x=1", "/var/www/a.php",
                   tcp=((41000, "127.0.0.1:3306"),)),
    ),
    max_children=8,
)  # fmt: skip
MYSQL = MysqlSample(
    ts=T0,
    source="mysql",
    target="unix:/run/mysqld/mysqld.sock",
    version="10.11.6-MariaDB",
    max_connections=151,
    status={"Threads_connected": 3, "Questions": 99},
    threads=(MysqlThread(5, "app", "localhost", "shop", "Query", 2.5, "Sending data", "SELECT 1"),),
    questions_per_s=4.5,
    truncated=1,
)
STATE = SourceState(T0, "apache-access", "apache-access", "missing", "gone", "fix it", "/var/log/a")
ALERT = RemoteAlert(T0, "http_5xx_burst", "12 5xx in 10 s", "/var/tmp/lamptop/x")


class ListSink:
    """A stream sink that keeps what it is given, in order."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.registered: list[str] = []

    def register(self, name: str) -> None:
        self.registered.append(name)

    def add_records(self, records: Any) -> None:
        self.events.extend(records)

    def add_status(self, sample: StatusSample) -> None:
        self.events.append(sample)

    def add_system(self, sample: SystemSample) -> None:
        self.events.append(sample)

    def add_fpm(self, sample: FpmSample) -> None:
        self.events.append(sample)

    def add_mysql(self, sample: MysqlSample) -> None:
        self.events.append(sample)

    def set_state(self, state: SourceState) -> None:
        self.events.append(state)

    def add_alert(self, alert: RemoteAlert) -> None:
        self.events.append(alert)


HEADER = StreamHeader(STREAM_VERSION, "0.1.0", "web1.example", T0, ("apache-access", "php"))
