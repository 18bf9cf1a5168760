"""``lamptop parse FILE``: the records lamptop reads from a log, one JSON object per line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import IO

from console.core.events import LogRecord
from console.incident.serialize import record_to_dict
from console.parsing import detect_kind, make_parser
from console.parsing.timeutil import local_zone


def _chunks(stream: IO[bytes], size: int = 1 << 20) -> Iterator[list[str]]:
    """Decoded lines of a byte stream, a chunk at a time, partial lines carried over."""
    rest = b""
    while True:
        block = stream.read(size)
        if not block:
            break
        block = rest + block
        cut = block.rfind(b"\n")
        if cut < 0:
            rest = block
            continue
        rest = block[cut + 1 :]
        text = block[:cut].decode("utf-8", errors="replace")
        yield [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
    if rest:
        yield [rest.decode("utf-8", errors="replace").rstrip("\r")]


def cmd_parse(args: argparse.Namespace) -> int:
    """``lamptop parse FILE``: one JSON object per record on standard output."""
    try:
        stream: IO[bytes] = (
            sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
        )
    except OSError as exc:
        print(f"lamptop: {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    with stream:
        kind = args.kind
        if kind == "mod-status":
            return _parse_status(stream.read().decode("utf-8", errors="replace"), args.file)
        chunks = _chunks(stream)
        first = next(chunks, [])
        if kind is None:
            kind = detect_kind(first)
            if kind is None:
                text = "\n".join(first)
                if "Scoreboard:" in text or "Apache Server Status" in text:
                    return _parse_status(text, args.file)
                print(
                    f"lamptop: {args.file}: cannot tell what kind of log this is; "
                    "give --kind (see lamptop parse --help)",
                    file=sys.stderr,
                )
                return 1
        parser = make_parser(kind, zone=local_zone(args.timezone), fmt=args.format)
        now = datetime.now(UTC)
        out = sys.stdout
        _emit(parser.feed(first, now), out)
        for lines in chunks:
            _emit(parser.feed(lines, now), out)
        _emit(parser.flush(now), out)
    return 0


def _emit(records: Sequence[LogRecord], out: IO[str]) -> None:
    for rec in records:
        out.write(json.dumps(record_to_dict(rec), ensure_ascii=False))
        out.write("\n")


def _parse_status(text: str, name: str) -> int:
    from console.parsing.modstatus import NotModStatus, build_sample, status_to_dict

    now = datetime.now(UTC)
    try:
        if text.lstrip().startswith("<"):
            sample = build_sample(now, name, _auto_from_html(text), text)
        else:
            sample = build_sample(now, name, text)
    except NotModStatus as exc:
        print(f"lamptop: {name}: not a mod_status page: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(status_to_dict(sample), ensure_ascii=False))
    return 0


def _auto_from_html(html: str) -> str:
    """The scoreboard and counters from the HTML page, in ``?auto`` form."""
    from console.parsing.modstatus import auto_from_html

    return auto_from_html(html)
