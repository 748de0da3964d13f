#!/usr/bin/env python3
"""Host test of bench/nucleus_size.py on the built nucleus: the report is well formed, every
column sums to the ELF's own section sizes (read here from the section headers with
struct, not through readelf), attribution is real (little left unattributed, known folders
present), and bad input is refused with a message."""

from __future__ import annotations

import argparse
import json
import re
import struct
import subprocess
import sys
from pathlib import Path

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHT_NOBITS = 8
FOLDER = re.compile(r"^(nucleus(/[a-z0-9_]+)?|arch/[a-z0-9_]+|generated|kabi-gen/sdk|"
                    r"\(unattributed\)|\(toolchain headers\)|[a-z0-9_.-]+(/[a-z0-9_.-]+)?)$")


def elf_sections(path: Path) -> list[tuple[str, int, int, int]]:
    """(name, type, flags, size) of every section, from the ELF64 little-endian headers."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise SystemExit(f"{path}: not an ELF64 little-endian file")
    section_offset, = struct.unpack_from("<Q", data, 0x28)
    entry_size, count, names_index = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, section_offset + i * entry_size)
               for i in range(count)]
    names_offset = headers[names_index][4]

    def name_at(offset: int) -> str:
        end = data.index(b"\0", names_offset + offset)
        return data[names_offset + offset:end].decode()

    return [(name_at(h[0]), h[1], h[2], h[5]) for h in headers]


def expected_column(name: str, kind: int, flags: int) -> str:
    if flags & SHF_WRITE and flags & SHF_EXECINSTR:
        return name
    if kind == SHT_NOBITS:
        return ".bss"
    if flags & SHF_EXECINSTR:
        return ".text"
    return ".data" if flags & SHF_WRITE else ".rodata"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", required=True, type=Path)
    parser.add_argument("--elf", required=True, type=Path)
    parser.add_argument("--source-root", required=True, type=Path)
    arguments = parser.parse_args()
    failures = []

    def check(condition: bool, message: str) -> None:
        if not condition:
            failures.append(message)

    run = subprocess.run([sys.executable, str(arguments.script), "--json",
                          "--source-root", str(arguments.source_root), str(arguments.elf)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        print(f"nucleus_size.py failed ({run.returncode}): {run.stderr}")
        return 1
    report = json.loads(run.stdout)

    expected: dict[str, int] = {}
    sections = []
    for name, kind, flags, size in elf_sections(arguments.elf):
        if flags & SHF_ALLOC and size:
            column = expected_column(name, kind, flags)
            expected[column] = expected.get(column, 0) + size
            sections.append(name)
    check([s["name"] for s in report["sections"]] == sections,
          f"sections {[s['name'] for s in report['sections']]} != the ELF's {sections}")
    check(report["total"] == expected, f"totals {report['total']} != ELF section sizes {expected}")
    columns = report["columns"]
    check(sorted(columns) == sorted(expected), f"columns {columns} != {sorted(expected)}")

    independent = dict.fromkeys(columns, 0)
    sums = dict.fromkeys(columns, 0)
    for folder, row in report["folders"].items():
        check(bool(FOLDER.match(folder)), f"odd folder name {folder!r}")
        check(sorted(row) == sorted(columns), f"{folder}: columns {sorted(row)}")
        for column, count in row.items():
            check(isinstance(count, int) and count >= 0, f"{folder} {column}: {count!r}")
            sums[column] += count
            if not folder.startswith("arch/"):
                independent[column] += count
        if folder.startswith("nucleus/"):
            check((arguments.source_root / folder).is_dir(), f"{folder}: no such source folder")
    check(sums == expected, f"rows sum to {sums}, the ELF's sections to {expected}")
    check(report["arch_independent"] == independent,
          f"arch-independent {report['arch_independent']} != rows outside arch/ {independent}")

    text = expected[".text"]
    unattributed = report["folders"].get("(unattributed)", {}).get(".text", 0)
    check(unattributed * 10 < text, f"{unattributed} of {text} .text bytes unattributed")
    for folder in ("nucleus/module", "nucleus/sched", "arch/x86_64"):
        check(report["folders"].get(folder, {}).get(".text", 0) > 0, f"no .text for {folder}")

    table = subprocess.run([sys.executable, str(arguments.script), "--source-root",
                            str(arguments.source_root), str(arguments.elf)],
                           capture_output=True, text=True)
    kib = report["arch_independent"][".text"] / 1024
    check(table.returncode == 0 and f"arch-independent .text {kib:.1f} KiB" in table.stdout,
          f"table output lacks the goal line:\n{table.stdout}{table.stderr}")

    refused = subprocess.run([sys.executable, str(arguments.script), str(arguments.script)],
                             capture_output=True, text=True)
    check(refused.returncode == 1 and "nucleus_size:" in refused.stderr,
          f"a non-ELF input gave {refused.returncode}: {refused.stderr}")
    missing = subprocess.run([sys.executable, str(arguments.script), "/nonexistent/nucleus.elf"],
                             capture_output=True, text=True)
    check(missing.returncode == 1 and "no such file" in missing.stderr,
          f"a missing input gave {missing.returncode}: {missing.stderr}")

    for failure in failures:
        print("FAIL:", failure)
    if not failures:
        print(f"nucleus_size: {len(report['folders'])} rows sum to the ELF's "
              f"{len(sections)} allocated sections")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
