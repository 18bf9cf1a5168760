"""Why a MySQL poll got nothing, in words a sysadmin can act on, with the fix.

PyMySQL says ``(2003, "Can't connect to MySQL server on 'localhost' ([Errno 2] ...)")`` for
a missing socket, a refused port and a permission problem alike; :func:`explain` looks at the
OS error underneath and at the server's error code, and names what lamptop tried: the socket or
host, the user and how it was picked, whether a password was sent and where it came from.
"""

from __future__ import annotations

import os
import socket
import stat
from dataclasses import dataclass

import pymysql

from console.core.events import SourceStatus
from console.core.mysqltarget import PASSWORD_PLACES, MysqlTarget
from console.core.text import bound, clean
from console.discover.files import owner_group
from console.discover.mycnf import Login

#: Server error codes (``ER_*``) and client ones (``CR_*``).
ACCESS_DENIED = 1045
ACCESS_DENIED_NO_PASSWORD = 1698
TOO_MANY_CONNECTIONS = 1040
TOO_MANY_USER_CONNECTIONS = 1203
HOST_BLOCKED = 1129
HOST_NOT_ALLOWED = 1130
CONNECTION_KILLED = 1927
SOCKET_ERROR = 2002
CONNECT_ERROR = 2003
SERVER_GONE = 2006
SERVER_LOST = 2013
AUTH_PLUGIN = 2059
#: Errors after which the connection is no use: it is closed and opened again.
CONNECTION_ERRORS = frozenset({SERVER_GONE, SERVER_LOST, CONNECTION_KILLED, 2055})


class MysqlFailure(Exception):
    """Why one poll got no sample, as the state to report."""

    def __init__(self, status: SourceStatus, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status: SourceStatus = status
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Attempt:
    """What lamptop tried: for the words of a failure."""

    target: MysqlTarget
    login: Login | None
    origin: str = ""
    """Where the target was learned (``mysql/mariadb.cnf:25 socket``)."""
    connect_timeout: float = 2.0
    stall_timeout: float = 30.0
    """Seconds a read may wait before the connection gives up."""


def _q(text: str) -> str:
    """An outside name, quoted as SQL writes it, cleaned and short."""
    return "'" + bound(clean(text), 80) + "'"


def _create_user() -> str:
    return (
        "or give lamptop a user of its own: CREATE USER 'lamptop'@'localhost' IDENTIFIED BY "
        "'...'; GRANT PROCESS ON *.* TO 'lamptop'@'localhost'; then --mysql-user lamptop"
    )


def code_of(exc: BaseException) -> int:
    """The MySQL error code of a PyMySQL error, 0 when it has none."""
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else 0


def _os_error(exc: BaseException) -> OSError | None:
    """The OS error under a PyMySQL connect error."""
    original = getattr(exc, "original_exception", None)
    if isinstance(original, OSError):
        return original
    seen = exc.__cause__ or exc.__context__
    return seen if isinstance(seen, OSError) else None


def explain(exc: BaseException, attempt: Attempt) -> MysqlFailure:
    """A PyMySQL error (or an OS error) as a :class:`MysqlFailure`."""
    if isinstance(exc, MysqlFailure):
        return exc
    code = code_of(exc)
    said = str(exc.args[1]) if len(getattr(exc, "args", ())) > 1 else str(exc)
    if code in (CONNECT_ERROR, SOCKET_ERROR) or (code == 0 and isinstance(exc, OSError)):
        os_error = exc if isinstance(exc, OSError) else _os_error(exc)
        if os_error is not None:
            return _unreachable(os_error, attempt)
    if code in (ACCESS_DENIED, ACCESS_DENIED_NO_PASSWORD, HOST_NOT_ALLOWED):
        return _denied(code, said, attempt)
    if code == TOO_MANY_CONNECTIONS:
        return MysqlFailure(
            "refused",
            "too many connections: the server is at max_connections and lets nobody new in "
            "(a connection lamptop already holds keeps working)",
            "MariaDB keeps one connection beyond max_connections for an admin: run lamptop as "
            "root (sudo), or GRANT CONNECTION ADMIN ON *.* TO lamptop's user (MySQL: "
            "CONNECTION_ADMIN); raise max_connections in [mysqld] if it is too low",
        )
    if code == TOO_MANY_USER_CONNECTIONS:
        return MysqlFailure(
            "refused",
            f"user {_q(_user(attempt))} already has as many connections as it may "
            "(max_user_connections)",
            "give lamptop a user of its own, or raise that user's MAX_USER_CONNECTIONS",
        )
    if code == HOST_BLOCKED:
        return MysqlFailure(
            "refused",
            "the server blocks this host after too many failed connections",
            "mariadb-admin flush-hosts (FLUSH HOSTS), then find what kept failing",
        )
    if code == AUTH_PLUGIN:
        return MysqlFailure(
            "auth",
            f"user {_q(_user(attempt))} logs in with a method lamptop does not speak "
            f"({clean(bound(said, 200))})",
            _create_user().removeprefix("or "),
        )
    if code in CONNECTION_ERRORS:
        if "timed out" in said:
            return MysqlFailure(
                "timeout",
                f"no answer within {attempt.stall_timeout:g}s from {attempt.target.where}: "
                "the server may be overloaded; connecting again",
            )
        return MysqlFailure(
            "error",
            f"the server closed lamptop's connection ({clean(bound(said, 200))}): it restarted "
            "or the connection was killed; connecting again",
        )
    if isinstance(exc, pymysql.err.InternalError | pymysql.err.InterfaceError) and not code:
        return not_mysql(exc, attempt)
    text = f"MySQL error {code}: {said}" if code else f"{type(exc).__name__}: {said}"
    return MysqlFailure("error", f"{attempt.target.where} said: {clean(bound(text, 400))}")


def not_mysql(exc: BaseException, attempt: Attempt) -> MysqlFailure:
    """What answered is not a MySQL server (a web server, ssh, another service)."""
    said = clean(bound(str(exc) or type(exc).__name__, 200))
    return MysqlFailure(
        "error",
        f"{attempt.target.where} does not answer like a MySQL server ({said})",
        "point --mysql at the server's socket or port",
    )


def _user(attempt: Attempt) -> str:
    return attempt.login.user if attempt.login is not None else "?"


def _denied(code: int, said: str, attempt: Attempt) -> MysqlFailure:
    login = attempt.login
    user = _user(attempt)
    picked = f"picked from {login.user_from}" if login is not None else "unknown"
    if code == HOST_NOT_ALLOWED:
        return MysqlFailure(
            "auth",
            f"the server does not let this host in ({clean(bound(said, 200))})",
            "connect over the socket (unix:/run/mysqld/mysqld.sock), or create the user for "
            "this host: CREATE USER 'lamptop'@'HOST' ...",
        )
    if code == ACCESS_DENIED_NO_PASSWORD:
        return MysqlFailure(
            "auth",
            f"access denied for user {_q(user)} ({picked}): the server lets this user in by "
            "unix_socket, as the system user of the same name only",
            f"run lamptop as that system user (sudo for root), {_create_user()}",
        )
    if login is not None and login.password is not None:
        sent = f"with the password from {login.password_from}"
    else:
        sent = "without a password"
    return MysqlFailure(
        "auth",
        f"access denied for user {_q(user)} ({picked}), {sent}",
        f"set the user with --mysql-user and its password in {PASSWORD_PLACES}; {_create_user()}",
    )


def _unreachable(error: OSError, attempt: Attempt) -> MysqlFailure:
    target = attempt.target
    where = target.where
    origin = f" (from {clean(attempt.origin)})" if attempt.origin else ""
    if isinstance(error, FileNotFoundError) and target.socket is not None:
        return MysqlFailure(
            "missing",
            f"no MySQL socket at {where}{origin}: is MariaDB running?",
            "systemctl status mariadb; the server creates its socket where [mysqld] socket "
            "says in my.cnf: point --mysql unix:PATH at it",
        )
    if isinstance(error, ConnectionRefusedError):
        if target.socket is not None:
            return MysqlFailure(
                "refused",
                f"nothing answers on the socket {where}{origin}: the server is not running "
                "(the file is left from an earlier run)",
                "systemctl status mariadb; journalctl -u mariadb says why it stopped",
            )
        return MysqlFailure(
            "refused",
            f"connection refused: is MariaDB running / listening on {where}?",
            "systemctl status mariadb; check port, bind-address and skip-networking in "
            "[mysqld], or use the socket: --mysql unix:/run/mysqld/mysqld.sock",
        )
    if isinstance(error, PermissionError):
        return MysqlFailure(
            "unreadable",
            f"permission denied on the socket {where}{_socket_mode(target.socket)}",
            "run lamptop as root (sudo) or as a member of the socket's group, or connect over "
            "TCP: --mysql mysql://user@127.0.0.1:3306",
        )
    if isinstance(error, TimeoutError):
        return MysqlFailure(
            "timeout",
            f"no connection within {attempt.connect_timeout:g}s to {where}: the server may be "
            "overloaded, or a firewall drops the packets",
        )
    if isinstance(error, socket.gaierror):
        return MysqlFailure("error", f"cannot resolve the host in {target.shown}")
    reason = error.strerror or type(error).__name__
    return MysqlFailure("error", f"cannot connect to {where}: {clean(bound(reason, 200))}")


def _socket_mode(path: str | None) -> str:
    """`` (mysql:mysql 0660)``: who may open the socket, when lamptop can tell."""
    if path is None:
        return ""
    try:
        st = os.stat(path)
    except OSError:
        return " or a folder above it"
    owner, group = owner_group(st)
    return f" ({owner}:{group} {stat.S_IMODE(st.st_mode):04o})"
