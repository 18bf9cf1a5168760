"""A real OpenSSH server (Debian's ``/usr/sbin/sshd``) on loopback, for the tests of ``--remote``.

:func:`running_sshd` starts one from files written into a fresh directory: its own host key
(``ssh-keygen``), its own ``sshd_config`` (``-f``, in the foreground with ``-D -e``, no pid
file, no PAM, no strict modes, public keys only, from ``keys/%u`` in that directory), on a
free port of 127.0.0.1. Beside it, a client key and an ssh config file for ``ssh -F`` with a
``Host`` alias per user (``fleet-a`` -> ``lamptop-a@127.0.0.1:PORT``), the server's host key
in its own known_hosts file and ``StrictHostKeyChecking yes``; plus aliases that fail on
purpose: ``fleet-down`` (a port nothing listens on), ``fleet-badkey`` (a known_hosts file
holding another key) and ``fleet-nokey`` (a client key the server does not know).

sshd must run as root (to change to the user it logs in); without it, or without the
openssh-server package, the tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.apache_server import free_port, port_open
from tests.support.need import need_root, unavailable
from tests.support.orphans import die_with_parent, end_process

SSHD = Path("/usr/sbin/sshd")
PRIVSEP_DIR = Path("/run/sshd")
"""sshd refuses to start without its privilege separation directory (the package's service
makes it at boot)."""


def require_ssh() -> None:
    """sshd and the ssh client, and root to run sshd, or :func:`unavailable`."""
    if not SSHD.exists():
        unavailable(f"{SSHD} (Debian openssh-server) is not installed")
    if shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        unavailable("ssh and ssh-keygen (Debian openssh-client) are not installed")
    need_root("run sshd, which changes to the user it logs in")


def keygen(path: Path, comment: str) -> str:
    """A new ed25519 key pair at ``path`` (no passphrase); its public line."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    return path.with_name(path.name + ".pub").read_text().strip()


@dataclass
class SshServer:
    """One sshd: its directory, port and users, the client side's files, start and stop."""

    root: Path
    port: int
    users: dict[str, str]
    """Alias -> user it logs in (``fleet-a`` -> ``lamptop-a``)."""
    proc: subprocess.Popen[bytes] | None = None
    host_pub: str = ""
    client_pub: str = ""
    down_port: int = 0
    """A port nothing listens on (``fleet-down``)."""
    extra_aliases: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        """The client's ssh config file, for ``ssh -F`` (``--ssh-config``)."""
        return self.root / "ssh_config"

    @property
    def sshd_config(self) -> Path:
        return self.root / "sshd_config"

    @property
    def log(self) -> Path:
        return self.root / "sshd.log"

    def write_files(self) -> None:
        self.root.chmod(0o755)
        keys = self.root / "keys"
        keys.mkdir(mode=0o755, exist_ok=True)
        self.host_pub = keygen(self.root / "host_ed25519", "lamptop-test-host")
        self.client_pub = keygen(self.root / "client_ed25519", "lamptop-test-client")
        keygen(self.root / "stranger_ed25519", "lamptop-test-stranger")
        for user in set(self.users.values()):
            f = keys / user
            f.write_text(self.client_pub + "\n")
            f.chmod(0o644)
        other = keygen(self.root / "other_host_ed25519", "another host")
        self.sshd_config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.root}/host_ed25519",
                    "PidFile none",
                    "UsePAM no",
                    "StrictModes no",
                    f"AuthorizedKeysFile {keys}/%u",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin no",
                    f"AllowUsers {' '.join(sorted(set(self.users.values())))}",
                    "X11Forwarding no",
                    "AllowTcpForwarding no",
                    "PrintMotd no",
                    "PrintLastLog no",
                    "UseDNS no",
                    "MaxStartups 50",
                    "LogLevel INFO",
                    "",
                ]
            )
        )
        known = self.root / "known_hosts"
        known.write_text(f"[127.0.0.1]:{self.port} {self.host_pub}\n")
        wrong = self.root / "known_hosts_other"
        wrong.write_text(f"[127.0.0.1]:{self.port} {other}\n")
        first = next(iter(self.users.values()))
        key = self.root / "client_ed25519"
        aliases = [(alias, user, self.port, key, known) for alias, user in self.users.items()]
        aliases += [
            ("fleet-down", first, self.down_port, key, known),
            ("fleet-badkey", first, self.port, key, wrong),
            ("fleet-nokey", first, self.port, self.root / "stranger_ed25519", known),
        ]
        lines: list[str] = []
        for alias, user, port, identity, hosts in aliases:
            lines += [
                f"Host {alias}",
                "    HostName 127.0.0.1",
                f"    User {user}",
                f"    Port {port}",
                f"    IdentityFile {identity}",
                f"    UserKnownHostsFile {hosts}",
            ]
        lines += [
            "Host *",
            "    IdentitiesOnly yes",
            "    GlobalKnownHostsFile /dev/null",
            "    StrictHostKeyChecking yes",
            "    BatchMode yes",
            "    ControlMaster no",
            "    ControlPath none",
            "    ConnectTimeout 10",
            "",
        ]
        self.config.write_text("\n".join(lines))
        self.config.chmod(0o644)

    def start(self, timeout: float = 15.0) -> None:
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        self.write_files()
        log = self.log.open("wb")
        self.proc = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(self.sshd_config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError(f"sshd exited at start: {self.log_tail()}")
            if port_open(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"sshd did not listen within {timeout}s: {self.log_tail()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            end_process(proc, 10.0)

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def ssh(self, alias: str, *command: str) -> subprocess.CompletedProcess[str]:
        """Run ``command`` on ``alias`` as lamptop would reach it (for checks)."""
        return subprocess.run(
            ["ssh", "-F", str(self.config), "-T", alias, "--", *command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )


@contextlib.contextmanager
def running_sshd(users: dict[str, str]) -> Iterator[SshServer]:
    """An sshd letting in ``users`` (alias -> user), with its client files; stopped after."""
    require_ssh()
    root = Path(tempfile.mkdtemp(prefix="lamptop-sshd-"))
    server: SshServer | None = None
    try:
        for attempt in range(3):
            server = SshServer(root=root, port=free_port(), users=users, down_port=free_port())
            try:
                server.start()
                break
            except RuntimeError:
                if attempt == 2 or "Address already in use" not in server.log_tail():
                    raise
        assert server is not None
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


def kill_user_processes(user: str, names: Sequence[str] = ()) -> int:
    """SIGKILL the processes of ``user`` (those named in ``names`` when given, by their command
    line); how many."""
    import pwd

    import psutil

    uid = pwd.getpwnam(user).pw_uid
    killed = 0
    for p in psutil.process_iter(["uids", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            if p.info["uids"] is None or p.info["uids"].real != uid:
                continue
            line = " ".join(p.info["cmdline"] or ())
            if names and not any(n in line for n in names):
                continue
            os.kill(p.pid, 9)
            killed += 1
    return killed
