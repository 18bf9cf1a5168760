"""The MySQL client's own settings (user, password, socket) and the login lamptop uses.

lamptop logs in as the ``mysql`` client would: the user named in the target or the config
(``--mysql-user``, ``[mysql] user``), else the ``user`` of the option files' client groups
(``[client]``, ``[client-server]``, ``[client-mariadb]``, ``[mysql]``, ``[mariadb-client]``;
the system files first, ``~/.my.cnf`` last, the last value winning), else the login name. The
password: the config's ``[mysql] password`` or ``LAMPTOP_MYSQL_PASSWORD``, else the option
files', else none (MariaDB on Debian lets root in by ``unix_socket``).

Like the client, an option file anyone may write is ignored; a file holding the password that
others may read gets a warning with the ``chmod`` that fixes it. Values are kept as written
(they are credentials); whoever shows one cleans it.
"""

from __future__ import annotations

import getpass
import os
import stat
from dataclasses import dataclass

from console.discover.files import rooted
from console.discover.mysql import CLIENT_GROUPS, cnf_items, option_key, system_cnf_files

#: Option files larger than this are not read (a client's file is a few lines).
MAX_CNF_BYTES = 1 << 20
#: Longest user name and password taken from a file (MariaDB's user names stop at 128).
MAX_USER = 512
MAX_PASSWORD = 4096
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "r": "\r", "\\": "\\", "s": " "}


@dataclass(frozen=True)
class CnfValue:
    """One option of an option file, and where it was written."""

    value: str
    origin: str
    """``~/.my.cnf:3 password``."""
    path: str
    """The file (as opened: with the root in front)."""


@dataclass(frozen=True)
class ClientCnf:
    """What the client groups of the option files say."""

    user: CnfValue | None = None
    password: CnfValue | None = None
    socket: CnfValue | None = None
    host: CnfValue | None = None
    port: CnfValue | None = None
    warnings: tuple[str, ...] = ()
    """Problems with the files: one that is ignored, a password others can read."""


@dataclass(frozen=True)
class Login:
    """The user and password lamptop logs in with, and how each was picked."""

    user: str
    user_from: str
    """``the target URL``, ``--mysql-user / [mysql] user``, ``~/.my.cnf:2 user``,
    ``the login name``."""
    password: str | None = None
    password_from: str = ""
    """Empty when there is no password."""
    warnings: tuple[str, ...] = ()


def home_cnf(home: str | None = None) -> str:
    """``~/.my.cnf`` of ``home`` (default: ``$HOME``)."""
    return os.path.join(home if home is not None else os.path.expanduser("~"), ".my.cnf")


def _unescape(value: str) -> str:
    """The escapes option files allow: ``\\b \\t \\n \\r \\\\ \\s``; others stay as written."""
    if "\\" not in value:
        return value
    out: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value) and value[i + 1] in _ESCAPES:
            out.append(_ESCAPES[value[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _shown(path: str, home_file: str) -> str:
    return "~/.my.cnf" if path == home_file else path


def _usable(path: str, shown: str, warnings: list[str]) -> bool:
    """Whether the client would read this file: a regular file, not too large, not writable
    by everyone (the client ignores those)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_CNF_BYTES:
        return False
    if st.st_mode & 0o002:
        warnings.append(
            f"{shown} is writable by anyone (mode {stat.S_IMODE(st.st_mode):04o}): the mysql "
            f"client ignores it, and so does lamptop; chmod 600 {shown}"
        )
        return False
    return True


def read_client_cnf(*, home: str | None = None, root: str = "/") -> ClientCnf:
    """The client groups' ``user``, ``password``, ``socket``, ``host`` and ``port`` from the
    system option files and ``~/.my.cnf`` (its includes too), the last value winning."""
    home_file = home_cnf(home)
    warnings: list[str] = []
    found: dict[str, CnfValue] = {}
    seen: set[str] = set()
    files = [(root, p) for p in system_cnf_files(root)] + [("/", home_file)]
    for base, start in files:
        shown_start = _shown(start, home_file)
        if not _usable(rooted(base, start), shown_start, warnings):
            continue
        for path, n, section, key, value in cnf_items(base, start, seen):
            k = option_key(key)
            if section.lower() not in CLIENT_GROUPS or k not in (
                "user",
                "password",
                "socket",
                "host",
                "port",
            ):
                continue
            if path != start and not _usable(rooted(base, path), path, warnings):
                continue
            shown = _shown(path, home_file)
            text = _unescape(value)
            text = text[:MAX_PASSWORD] if k == "password" else text[:MAX_USER]
            found[k] = CnfValue(text, f"{shown}:{n} {key}", rooted(base, path))
    password = found.get("password")
    if password is not None and password.value:
        exposed = _exposed(password, home_file)
        if exposed:
            warnings.append(exposed)
    return ClientCnf(
        user=found.get("user"),
        password=found.get("password"),
        socket=found.get("socket"),
        host=found.get("host"),
        port=found.get("port"),
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _exposed(password: CnfValue, home_file: str) -> str:
    """A warning when the file holding the password can be read by others."""
    try:
        mode = os.stat(password.path).st_mode
    except OSError:
        return ""
    if not mode & 0o044:
        return ""
    shown = _shown(password.path, home_file)
    who = "anyone on this machine" if mode & 0o004 else "its group"
    return (
        f"{shown} holds a MySQL password and {who} can read it "
        f"(mode {stat.S_IMODE(mode):04o}): chmod 600 {shown}"
    )


def login_name() -> str:
    """The login name, as the client takes it when no user is given."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def pick_login(
    *,
    url_user: str | None,
    cfg_user: str | None,
    cfg_password: str | None,
    cnf: ClientCnf,
) -> Login:
    """The user and password to log in with, in the client's order (see the module's doc)."""
    if url_user:
        user, user_from = url_user, "the target URL"
    elif cfg_user:
        user, user_from = cfg_user, "--mysql-user / [mysql] user"
    elif cnf.user is not None and cnf.user.value:
        user, user_from = cnf.user.value, cnf.user.origin
    else:
        user, user_from = login_name(), "the login name"
    password: str | None = None
    password_from = ""
    if cfg_password:
        password, password_from = cfg_password, "[mysql] password / LAMPTOP_MYSQL_PASSWORD"
    elif cnf.password is not None and cnf.password.value:
        password, password_from = cnf.password.value, cnf.password.origin
    return Login(user, user_from, password, password_from, cnf.warnings)
