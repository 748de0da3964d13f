#!/usr/bin/env python3
"""Builds a boot bundle: a cpio archive in the "newc" format (what the nucleus reads).

    make_bundle.py --output bundle.cpio NAME=PATH [NAME=PATH ...]

Each NAME=PATH stores the file at PATH under NAME in the archive. Entries keep the order
given; the archive ends with the TRAILER!!! entry. The module system (signed modules and
the boot manifest's loading rules) builds on this format.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

MAGIC = b"070701"


def entry(name: str, data: bytes, mode: int, inode: int) -> bytes:
    encoded = name.encode() + b"\0"
    fields = [inode, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0]
    header = MAGIC + b"".join(b"%08X" % value for value in fields)
    record = header + encoded
    record += b"\0" * (-len(record) % 4)
    record += data
    record += b"\0" * (-len(record) % 4)
    return record


def build(files: list[tuple[str, bytes]]) -> bytes:
    archive = b"".join(entry(name, data, 0o100644, index + 1) for index, (name, data) in enumerate(files))
    return archive + entry("TRAILER!!!", b"", 0, 0)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("files", nargs="*", metavar="NAME=PATH")
    arguments = parser.parse_args(argv)
    files = []
    for item in arguments.files:
        name, separator, path = item.partition("=")
        if not separator or not name:
            parser.error(f"'{item}': expected NAME=PATH")
        source = Path(path)
        if not source.is_file():
            parser.error(f"'{item}': {source} is not a file")
        files.append((name, source.read_bytes()))
    arguments.output.write_bytes(build(files))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
