"""Read an Apache httpd configuration the way httpd does, to learn its logs and status page.

Debian/Ubuntu (``/etc/apache2/apache2.conf`` with ``envvars``) and RHEL (``/etc/httpd``) are
both read by the same walker: ``Include``/``IncludeOptional`` (globs, directories, relative to
``ServerRoot``), ``${VAR}`` from ``Define`` and ``envvars``, line continuations, quoted words.
Sections (``<IfDefine>``, ``<Directory>``...) are read as if they were active. ``<IfModule>`` is
too, unless ``LoadModule`` lines were seen before it and its module is not among them: that
keeps Debian's ``<IfModule ssl_module> Listen 443`` out when mod_ssl is off, and reads everything
when the module list cannot be known. ``<VirtualHost>`` and ``<Location>`` are tracked because
they say which site a log belongs to and where the status page lives.

Paths handled here are *host* paths (``/etc/...``); :func:`rooted` maps them under the tree
being read (``/`` in real use, a ``tmp_path`` in tests).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from console.discover.files import Declared, expand_glob, rooted, where

#: Apache's LogFormat strings as the distributions ship them; used when a nickname is not defined.
STOCK_FORMATS: Mapping[str, str] = {
    "vhost_combined": '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
    "combined": '%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
    "common": '%h %l %u %t "%r" %>s %O',
}
#: httpd's built-in format for ``TransferLog`` when no nickname-less ``LogFormat`` is given.
DEFAULT_TRANSFER_FORMAT = '%h %l %u %t "%r" %>s %b'

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SHELL_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_ENV_LINE = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)")
_PATH_DIRECTIVES = frozenset(
    ("include", "includeoptional", "errorlog", "customlog", "transferlog", "serverroot")
)
#: Modules compiled into Debian's and RHEL's httpd: never named by LoadModule, always there.
_STATIC_MODULES = frozenset(
    ("core", "so", "http_core", "http", "log_config", "logio", "version", "unixd", "watchdog")
)
_ADDR = re.compile(r"^(\[[^\]]+\]|[^:\s]*)(?::(\d+|\*))?$")


@dataclass
class ApacheConfig:
    """What the Apache configuration says about logs and the status page."""

    main: str | None = None
    """Host path of the main config file read, None when there is none."""
    layout: str = ""
    """``debian`` or ``rhel``; empty when no Apache config was found."""
    logs: list[Declared] = field(default_factory=list)
    status_urls: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    """LogFormat nicknames defined outside any VirtualHost, later definitions winning."""


@dataclass
class _VHost:
    name: str
    addrs: list[tuple[str, str]]
    formats: dict[str, str] = field(default_factory=dict)


@dataclass
class _Pending:
    path: str
    kind: str
    fmt: str | None
    """A LogFormat nickname or string, resolved once the whole config is read."""
    origin: str
    vhost: _VHost | None


def words(line: str) -> list[str]:
    """Split a directive line like httpd's ``ap_getword_conf``: quotes group, ``\\"`` is ``"``."""
    out: list[str] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        quote = line[i] if line[i] in "\"'" else ""
        j = i + 1 if quote else i
        buf: list[str] = []
        while j < n:
            c = line[j]
            if quote and c == "\\" and j + 1 < n and line[j + 1] == quote:
                buf.append(quote)
                j += 2
                continue
            if (quote and c == quote) or (not quote and c.isspace()):
                break
            buf.append(c)
            j += 1
        out.append("".join(buf))
        i = j + 1
    return out


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Non-blank, non-comment lines with ``\\`` continuations joined, each with its first line."""
    pending: list[str] = []
    start = 0
    for n, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = n
        line = raw.rstrip()
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        joined = " ".join(p.strip() for p in pending).strip()
        pending = []
        if joined and not joined.startswith("#"):
            yield start, joined


def read_envvars(text: str, confdir: str) -> dict[str, str]:
    """The ``export NAME=value`` lines of Debian's ``envvars``, with ``$VAR`` expanded.

    Only top-level assignments are read; ``SUFFIX`` (set in an ``if`` from ``APACHE_CONFDIR``) is
    worked out directly: ``/etc/apache2-web`` gives ``-web``.
    """
    name = os.path.basename(confdir.rstrip("/"))
    values = {"SUFFIX": name[len("apache2") :] if name.startswith("apache2-") else ""}
    values["APACHE_CONFDIR"] = confdir
    for raw in text.splitlines():
        if raw[:1].isspace():
            continue
        m = _ENV_LINE.fullmatch(raw.strip())
        if not m or m.group(1) == "SUFFIX":
            continue
        value = m.group(2).strip()
        if len(value) > 1 and value[0] in "\"'" and value.endswith(value[0]):
            value = value[1:-1]
        values[m.group(1)] = _SHELL_VAR.sub(
            lambda v: values.get(v.group(1) or v.group(2), ""), value
        )
    return values


class _Walker:
    def __init__(self, root: str, server_root: str, variables: dict[str, str]) -> None:
        self.root = root
        self.server_root = server_root
        self.vars = variables
        self.cfg = ApacheConfig()
        self.listens: list[tuple[str, str, str]] = []
        self.vhost: _VHost | None = None
        self.vhosts: list[_VHost] = []
        self.locations: list[str | None] = []
        self.status_locs: list[tuple[str, _VHost | None]] = []
        self.pending: list[_Pending] = []
        self.transfer_fmt = DEFAULT_TRANSFER_FORMAT
        self.extended: str = ""
        self.modules: set[str] = set()
        self.reading: list[str] = []
        self.ifmodule: list[bool] = []

    # -- files --------------------------------------------------------------------------------
    def read(self, path: str) -> None:
        host = rooted(self.root, path)
        real = os.path.realpath(host)
        if real in self.reading or len(self.reading) > 16:
            return
        try:
            with open(host, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except FileNotFoundError:
            return
        except OSError as exc:
            self.cfg.notes.append(f"cannot read {path}: {exc.strerror or exc}")
            return
        self.reading.append(real)
        for lineno, line in logical_lines(text):
            self.line(path, lineno, line)
        self.reading.pop()

    def include(self, pattern: str) -> None:
        pattern = self.absolute(pattern)
        for hit in expand_glob(self.root, pattern):
            if os.path.isdir(rooted(self.root, hit)):
                for dirpath, dirnames, filenames in os.walk(rooted(self.root, hit)):
                    dirnames.sort()
                    sub = hit + dirpath[len(rooted(self.root, hit)) :]
                    for name in sorted(filenames):
                        self.read(os.path.join(sub, name))
            else:
                self.read(hit)

    def absolute(self, path: str) -> str:
        return os.path.normpath(os.path.join(self.server_root, self.expand(path)))

    def expand(self, text: str) -> str:
        return _VAR.sub(lambda m: self.vars.get(m.group(1), m.group(0)), text)

    # -- directives ---------------------------------------------------------------------------
    def line(self, path: str, lineno: int, line: str) -> None:
        if line.startswith("<"):
            self.section(line.rstrip(">").strip("<"))
            return
        if not all(self.ifmodule):
            return
        w = words(line)
        name, args = w[0].lower(), [self.expand(a) for a in w[1:]]
        origin = where(path, lineno, w[0])
        if name in _PATH_DIRECTIVES and "${" in " ".join(args):
            self.cfg.notes.append(f"{origin}: undefined variable in {' '.join(args)}")
        if name in ("include", "includeoptional") and args:
            self.include(args[0])
        elif name == "serverroot" and args:
            self.server_root = args[0]
        elif name == "define" and args:
            self.vars[args[0]] = args[1] if len(args) > 1 else ""
        elif name == "servername" and args and self.vhost and not self.vhost.name:
            self.vhost.name = args[0]
        elif name == "listen" and args:
            self.listen(args)
        elif name == "loadmodule" and args:
            self.modules.add(args[0].lower())
        elif name == "extendedstatus" and args:
            self.extended = args[0].lower()
        elif name == "sethandler" and args and args[0].lower() == "server-status":
            if self.locations and self.locations[-1]:
                self.status_locs.append((self.locations[-1], self.vhost))
        elif name == "logformat" and args:
            if len(args) == 1:
                self.transfer_fmt = args[0]
            else:
                (self.vhost.formats if self.vhost else self.cfg.formats)[args[1]] = args[0]
        elif name in ("errorlog", "customlog", "transferlog") and args:
            self.log(name, args, origin)
        elif name in ("php_admin_value", "php_value") and len(args) > 1:
            if args[0].lower() == "error_log":
                self.php_log(args[1], origin)

    def section(self, tag: str) -> None:
        parts = words(tag)
        name = parts[0].lower() if parts else ""
        if name == "ifmodule":
            self.ifmodule.append(self.module_on(parts[1]) if len(parts) > 1 else True)
        elif name == "/ifmodule" and self.ifmodule:
            self.ifmodule.pop()
        elif not all(self.ifmodule):
            return
        elif name == "virtualhost":
            self.vhost = _VHost("", [self.addr(a) for a in parts[1:]])
            self.vhosts.append(self.vhost)
        elif name == "/virtualhost":
            self.vhost = None
        elif name in ("location", "locationmatch"):
            self.locations.append(parts[1] if name == "location" and len(parts) > 1 else None)
        elif name in ("/location", "/locationmatch") and self.locations:
            self.locations.pop()

    def module_on(self, arg: str) -> bool:
        """Whether ``<IfModule arg>`` holds, as far as the LoadModule lines so far tell."""
        name = arg.lstrip("!").lower()
        if name.endswith(".c"):
            name = name.removeprefix("mod_")[:-2] + "_module"
        if not self.modules:
            return True
        loaded = name in self.modules or name.removesuffix("_module") in _STATIC_MODULES
        return loaded != arg.startswith("!")

    def addr(self, text: str) -> tuple[str, str]:
        m = _ADDR.match(text)
        if not m:
            return ("", "")
        host, port = m.group(1), m.group(2) or ""
        return ("" if host in ("*", "_default_") else host, "" if port == "*" else port)

    def listen(self, args: list[str]) -> None:
        host, port = self.addr(args[0]) if ":" in args[0] else ("", args[0])
        if not port.isdigit():
            return
        proto = args[1].lower() if len(args) > 1 else ("https" if port == "443" else "http")
        self.listens.append((host, port, proto))

    def log(self, name: str, args: list[str], origin: str) -> None:
        target = args[0]
        if target.startswith("|"):
            self.cfg.notes.append(f"{origin}: piped to {target.lstrip('|').strip()}: not watched")
            return
        if name == "errorlog" and target.lower().startswith("syslog"):
            self.cfg.notes.append(f"{origin}: goes to {target}: not watched")
            return
        kind = "apache-error" if name == "errorlog" else "apache-access"
        fmt = args[1] if name == "customlog" and len(args) > 1 else None
        if name == "customlog" and fmt is None:
            return
        self.pending.append(_Pending(self.absolute(target), kind, fmt, origin, self.vhost))

    def php_log(self, value: str, origin: str) -> None:
        if value.lower() == "syslog" or value.startswith("/dev/"):
            self.cfg.notes.append(f"{origin}: PHP errors go to {value}: not watched")
        elif os.path.isabs(value):
            path = os.path.normpath(value)
            self.pending.append(_Pending(path, "php-error", None, origin, self.vhost))

    # -- results ------------------------------------------------------------------------------
    def finish(self) -> ApacheConfig:
        cfg = self.cfg
        for p in self.pending:
            fmt = p.fmt
            if p.kind == "apache-access":
                fmt = self.format_of(p.fmt, p.vhost, p.origin)
            vhost = p.vhost.name if p.vhost else ""
            cfg.logs.append(Declared(p.path, p.kind, fmt, p.origin, vhost))
        self.status()
        return cfg

    def format_of(self, token: str | None, vhost: _VHost | None, origin: str) -> str:
        if token is None:
            return self.transfer_fmt
        fmt = vhost.formats.get(token) if vhost else None
        fmt = fmt or self.cfg.formats.get(token) or STOCK_FORMATS.get(token)
        if fmt is None and "%" not in token:
            self.cfg.notes.append(f"{origin}: no LogFormat named {token!r}")
        return fmt or token

    def endpoints(self, vh: _VHost | None) -> Iterator[tuple[int, str, str, str]]:
        """(order, host, port, scheme) where a Location in ``vh`` (None: every site) answers."""
        listens = self.listens or [("", "80", "http")]
        for i, (host, port, proto) in enumerate(listens):
            if vh is None:
                yield i, host, port, proto
                continue
            for h, p in vh.addrs:
                if p in ("", port) and (not h or not host or h == host):
                    yield i, h or host, port, proto
                    break

    def status(self) -> None:
        cfg = self.cfg
        if self.modules and "status_module" not in self.modules:
            how = "sudo a2enmod status" if cfg.layout == "debian" else "LoadModule status_module"
            cfg.notes.append(f"mod_status is not loaded: server-status needs it ({how})")
        elif not self.status_locs:
            cfg.notes.append(
                "server-status is not configured: add <Location /server-status> SetHandler "
                "server-status; Require local </Location>"
            )
        if self.extended == "off":
            cfg.notes.append("ExtendedStatus is Off: in-flight requests will not show")
        first: dict[tuple[str, str], _VHost] = {}
        for each in self.vhosts:
            for a in each.addrs:
                first.setdefault(a, each)
        found: list[tuple[bool, bool, int, str]] = []
        for loc, vh in self.status_locs:
            if vh and vh.name and any(first.get(a) is not vh for a in vh.addrs):
                cfg.notes.append(
                    f"server-status is inside the vhost {vh.name}: a request to its address "
                    f"reaches another vhost unless it sends Host: {vh.name}"
                )
            for i, host, port, proto in self.endpoints(vh):
                shown = "127.0.0.1" if host in ("", "0.0.0.0", "[::]") else host
                suffix = "" if port == ("443" if proto == "https" else "80") else f":{port}"
                found.append((proto != "http", port != "80", i, f"{proto}://{shown}{suffix}{loc}"))
        for *_, url in sorted(found):
            if url not in cfg.status_urls:
                cfg.status_urls.append(url)
        if any(u.startswith("https:") for u in cfg.status_urls):
            cfg.notes.append(
                "server-status over https: the certificate will not name 127.0.0.1, so it "
                "cannot be verified"
            )


def read_apache(root: str, env: Mapping[str, str]) -> ApacheConfig:
    """Find and read the Apache configuration under ``root`` (Debian layout first, then RHEL)."""
    confdir = env.get("APACHE_CONFDIR", "/etc/apache2")
    layouts = (
        ("debian", confdir, os.path.join(confdir, "apache2.conf")),
        ("rhel", "/etc/httpd", "/etc/httpd/conf/httpd.conf"),
    )
    for layout, server_root, main in layouts:
        if not os.path.lexists(rooted(root, main)):
            continue
        variables = dict(env)
        if layout == "debian":
            try:
                with open(rooted(root, os.path.join(confdir, "envvars")), encoding="utf-8") as fh:
                    variables.update(read_envvars(fh.read(), confdir))
            except (OSError, UnicodeDecodeError):
                variables.setdefault("APACHE_LOG_DIR", "/var/log/apache2")
        walker = _Walker(root, server_root, variables)
        walker.cfg.main, walker.cfg.layout = main, layout
        walker.read(main)
        return walker.finish()
    return ApacheConfig()
