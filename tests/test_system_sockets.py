"""The TCP connections of PHP-FPM processes, read from /proc: a real one and a made-up tree."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from console.sources.system.sockets import _address, php_fpm_tcp
from tests.support.wait import wait_for

CHILD = r"""
import socket, sys, time
open("/proc/self/comm", "w").write("php-fpm: pool w")
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print(s.getsockname()[1], flush=True)
time.sleep(60)
"""


def test_a_real_process_named_php_fpm_shows_its_connection(tmp_path: Path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        local = int(child.stdout.readline())
        conn, _ = server.accept()
        found = php_fpm_tcp([child.pid, os.getpid()])
        assert found == {child.pid: ((local, f"127.0.0.1:{port}"),)}
        conn.close()
        # the peer closed: no longer ESTABLISHED on its side soon after
        wait_for(
            lambda: php_fpm_tcp([child.pid]).get(child.pid, ()) != ((local, f"127.0.0.1:{port}"),)
        )
    finally:
        child.kill()
        child.wait()
        server.close()


def test_only_php_fpm_processes_are_read(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    for pid, comm, inode in ((10, "php-fpm8.2", 111), (11, "sshd", 222), (12, "php-fpm8.2", 333)):
        (proc / str(pid) / "fd").mkdir(parents=True)
        (proc / str(pid) / "comm").write_text(comm + "\n")
        os.symlink(f"socket:[{inode}]", proc / str(pid) / "fd" / "3")
        os.symlink("/dev/null", proc / str(pid) / "fd" / "0")
    (proc / "net").mkdir()
    head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid"
    rest = "00000000:00000000 00:00000000 00000000    33        0"
    (proc / "net" / "tcp").write_text(
        f"{head}  timeout inode\n"
        f"   0: 0100007F:C350 0100007F:0CEA 01 {rest} 111 1\n"
        f"   1: 0100007F:C351 0100007F:0CEA 01 {rest} 222 1\n"
        f"   2: 0100007F:C352 0100007F:0CEA 06 {rest} 333 1\n"
        "garbage line\n"
    )
    # 11 is not php-fpm; 12's socket is in TIME_WAIT (06); 99 does not exist
    assert php_fpm_tcp([10, 11, 12, 99], proc=str(proc)) == {10: ((50000, "127.0.0.1:3306"),)}


def test_addresses() -> None:
    assert _address("0100007F:0CEA") == "127.0.0.1:3306"
    assert _address("00000000000000000000000001000000:0CEA") == "[::1]:3306"
    assert _address("0000000000000000FFFF00000100007F:0CEA") == "127.0.0.1:3306"


def test_the_tcp_table_is_read_again_only_for_a_new_socket_and_not_too_often(
    tmp_path: Path,
) -> None:
    from console.sources.system.sockets import TcpTable

    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    rest = "00000000:00000000 00:00000000 00000000    33        0"
    (proc / "net" / "tcp").write_text(
        f"header\n   0: 0100007F:C350 0100007F:0CEA 01 {rest} 111 1\n"
    )
    table = TcpTable(str(proc), max_age=1000.0)
    assert table.lookup([111]) == {111: (50000, "127.0.0.1:3306")} and table.reads == 1
    assert table.lookup([111]) and table.reads == 1  # known: not read again
    assert table.lookup([999]) == {} and table.reads == 1  # unknown, but read moments ago
    eager = TcpTable(str(proc), max_age=0.0)
    eager.lookup([999])
    eager.lookup([999])
    assert eager.reads == 2
