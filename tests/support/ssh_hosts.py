"""Two "remote hosts" on this machine, reached over a real sshd: ``fleet-a`` and ``fleet-b``.

Each is an ordinary user (``lamptop-a``, ``lamptop-b``, created when missing) with its own
Apache (:mod:`tests.support.apache_server`, its logs readable by that user), its own lamptop
config in its home (``~/.config/lamptop/TAG.toml``, ``TAG`` naming this set of hosts, so
that two test processes never share one: that Apache's status URL and logs, nothing
discovered) and a remote command: a small script that runs this tree's lamptop with
Debian's ``/usr/bin/python3.11`` and this tree plus its venv's packages on ``PYTHONPATH``
(a Python installed under ``/root`` is not for other users to run). When the user cannot read
this tree where it is, the script runs a copy made in a temp directory instead.

:func:`two_hosts` starts all of it and stops it after; ``python -m tests.support.ssh_hosts``
does it by hand and prints the console's command line.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.apache_server import ApacheServer, running_apache
from tests.support.need import unavailable
from tests.support.paths import ROOT
from tests.support.sshd_server import SshServer, kill_user_processes, running_sshd

PYTHON = Path("/usr/bin/python3.11")
"""Debian's interpreter, which every user can run."""
USERS = {"fleet-a": "lamptop-a", "fleet-b": "lamptop-b"}


def ensure_user(name: str) -> pwd.struct_passwd:
    """An ordinary user ``name`` with a home and a shell, made when missing; its password
    ``*`` (no password login, but not locked: sshd without PAM refuses a locked account even
    with a key)."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        # another test process may be making it at the same moment: its user is as good
        subprocess.run(
            ["useradd", "--create-home", "--shell", "/bin/sh", name], capture_output=True
        )
        entry = pwd.getpwnam(name)
    subprocess.run(["usermod", "-p", "*", name], check=True, capture_output=True)
    return entry


def _readable_by(user: pwd.struct_passwd, path: Path) -> bool:
    """Whether ``user`` can import lamptop and its packages from ``path`` (tried as that user)."""
    env = {"PYTHONPATH": os.pathsep.join(_python_path(path)), "PATH": "/usr/bin:/bin"}
    got = subprocess.run(
        ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
         str(PYTHON), "-c", "import console.cli, psutil, requests, aiofiles"],
        env=env, capture_output=True, cwd="/",
    )  # fmt: skip
    return got.returncode == 0


def _site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def _python_path(tree: Path) -> list[str]:
    site = tree / "site-packages"
    return [str(tree), str(site if site.is_dir() else _site_packages())]


@contextlib.contextmanager
def readable_tree(user: pwd.struct_passwd) -> Iterator[Path]:
    """This tree, or a copy of it and its packages that ``user`` can read."""
    if _readable_by(user, ROOT):
        yield ROOT
        return
    copy = Path(tempfile.mkdtemp(prefix="lamptop-tree-"))
    try:
        copy.chmod(0o755)
        skip = shutil.ignore_patterns("__pycache__", "*.pyc")
        for sub in ("console", "widgets"):
            shutil.copytree(ROOT / sub, copy / sub, ignore=skip)
        shutil.copytree(_site_packages(), copy / "site-packages", ignore=skip, symlinks=True)
        subprocess.run(["chmod", "-R", "a+rX", str(copy)], check=True)
        if not _readable_by(user, copy):
            unavailable(f"{user.pw_name} cannot run lamptop from a copy in {copy}")
        yield copy
    finally:
        shutil.rmtree(copy, ignore_errors=True)


@dataclass
class RemoteHost:
    """One user of the sshd, as a host: its alias, Apache and lamptop command."""

    alias: str
    user: pwd.struct_passwd
    apache: ApacheServer
    command: Path
    """The script that runs this tree's lamptop as that user."""
    config: Path
    """Its lamptop config (in its home), named by the set of hosts."""

    @property
    def home(self) -> Path:
        return Path(self.user.pw_dir)


def write_command(tree: Path, bin_dir: Path, tag: str) -> Path:
    """The remote command every user runs: this tree's lamptop on Debian's Python, with the
    user's config of this set of hosts."""
    script = bin_dir / "lamptop"
    script.write_text(
        "#!/bin/sh\n"
        f"PYTHONPATH='{os.pathsep.join(_python_path(tree))}'\n"
        "export PYTHONPATH\n"
        f'exec {PYTHON} -m console.cli --config "$HOME/.config/lamptop/{tag}.toml" "$@"\n'
    )
    script.chmod(0o755)
    return script


def setup_user(alias: str, name: str, apache: ApacheServer, command: Path, tag: str) -> RemoteHost:
    """The user's config for ``apache``."""
    user = ensure_user(name)
    home = Path(user.pw_dir)
    conf_dir = home / ".config" / "lamptop"
    conf_dir.mkdir(parents=True, exist_ok=True)
    conf = conf_dir / f"{tag}.toml"
    conf.write_text(
        "\n".join(
            [
                "discover = false",
                "[status]",
                f'url = "{apache.status_url}"',
                "[recorder]",
                "backfill_lines = 50",
                "[snapshot]",
                f'dir = "{home}/{tag}-snapshots"',
                "[[log]]",
                f'path = "{apache.access_log}"',
                'kind = "apache-access"',
                'name = "access"',
                "[[log]]",
                f'path = "{apache.error_log}"',
                'kind = "apache-error"',
                'name = "error"',
                "",
            ]
        )
    )
    for d in (home / ".config", conf_dir):
        os.chown(d, user.pw_uid, user.pw_gid)
    os.chown(conf, user.pw_uid, user.pw_gid)
    for log in (apache.access_log, apache.error_log):
        log.touch()
        log.chmod(0o644)
    return RemoteHost(alias, user, apache, command, conf)


@dataclass
class TwoHosts:
    sshd: SshServer
    hosts: dict[str, RemoteHost]
    tag: str
    """Names this set's configs: in the command line of its remote lamptops, and of no
    other's (:meth:`kill_remote`)."""

    def kill_remote(self, alias: str) -> int:
        """Kill the remote lamptop of ``alias`` (this set's only); how many processes."""
        return kill_user_processes(self.hosts[alias].user.pw_name, (f"{self.tag}.toml",))

    def config_toml(self, *remotes: str, missing: str = "") -> str:
        """A console's config: ``[ssh]`` with the client's config file, a ``[[remote]]`` per
        alias with its command (``missing``: an alias whose command does not exist)."""
        lines = ["discover = false", "[ssh]", f'config = "{self.sshd.config}"', "local = false"]
        for alias in remotes:
            host = self.hosts.get(alias)
            command = str(host.command) if host else "/nonexistent/lamptop"
            if alias == missing:
                command = "/nonexistent/lamptop"
            lines += ["[[remote]]", f'dest = "{alias}"', f'command = "{command}"']
        return "\n".join(lines) + "\n"

    def command_line(self) -> str:
        """The console over both hosts, from flags alone."""
        command = self.hosts["fleet-a"].command
        return (
            f"lamptop --remote fleet-a --remote fleet-b --ssh-config {self.sshd.config} "
            f"--remote-command {command} --no-local"
        )


@contextlib.contextmanager
def two_hosts() -> Iterator[TwoHosts]:
    """sshd, two users with an Apache each and their lamptop commands; stopped after."""
    if not PYTHON.exists():
        unavailable(f"{PYTHON} (Debian python3.11) is not installed")
    with contextlib.ExitStack() as stack:
        sshd = stack.enter_context(running_sshd(USERS))
        tree = stack.enter_context(readable_tree(ensure_user(USERS["fleet-a"])))
        bin_dir = Path(tempfile.mkdtemp(prefix="lamptop-bin-"))
        stack.callback(shutil.rmtree, bin_dir, True)
        bin_dir.chmod(0o755)
        tag = f"lamptop-test-{bin_dir.name.rsplit('-', 1)[-1]}"
        command = write_command(tree, bin_dir, tag)
        hosts = {}
        for alias, name in USERS.items():
            apache = stack.enter_context(running_apache())
            hosts[alias] = setup_user(alias, name, apache, command, tag)
            stack.callback(hosts[alias].config.unlink, True)
            stack.callback(shutil.rmtree, hosts[alias].home / f"{tag}-snapshots", True)
        yield TwoHosts(sshd, hosts, tag)


def main() -> None:  # pragma: no cover - by hand
    """Start both hosts, print how to reach them, and wait for Ctrl-C or SIGTERM."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # a background job starts with SIGINT ignored

    with two_hosts() as fleet:
        conf_dir = Path(tempfile.mkdtemp(prefix="lamptop-console-"))
        stack_cleanup = contextlib.ExitStack()
        stack_cleanup.callback(shutil.rmtree, conf_dir, True)
        conf = conf_dir / "config.toml"
        conf.write_text(fleet.config_toml("fleet-a", "fleet-b"))
        print(f"config: {conf}")
        print(f"  .venv/bin/lamptop --config {conf}")
        print(f"  .venv/bin/{fleet.command_line()}")
        for alias, host in fleet.hosts.items():
            print(f"{alias}: {host.apache.url} (logs {host.apache.access_log.parent})")
        sys.stdout.flush()
        with stack_cleanup, contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
