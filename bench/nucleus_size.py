#!/usr/bin/env python3
"""Nucleus image size per source folder: .text, .rodata, .data and .bss of nucleus.elf.

Every allocated byte of the image is attributed to one row, by address:
  - a symbol's bytes (`nm -S -l -n`: address, size, and the source file:line from the DWARF
    line info) go to the folder of its source file: nucleus/<sub> (nucleus for files at its
    top), arch/<arch>, kabi-gen/sdk, or "generated" for kabi-gen's headers in the build
    tree; a symbol without a size (assembly labels) extends to the next symbol;
  - bytes no symbol with line info covers (string literals, switch tables, alignment
    padding, assembly data) go to "(unattributed)";
  - a section whose attributed bytes all come from one arch/ folder (the boot section) is
    that folder's entirely.
Columns follow the section flags: executable -> .text, read-only -> .rodata, writable ->
.data, no file bytes -> .bss. "arch-independent" is everything outside arch/, unattributed
bytes included, measured against the goal of at most 32 KiB of arch-independent .text.
Sums equal the ELF's section sizes (checked by bench/nucleus_size_test.py).

Usage: nucleus_size.py [--json] [--source-root DIR] [--nm NM] [--readelf READELF] nucleus.elf
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

COLUMNS = (".text", ".rodata", ".data", ".bss")
GOAL_TEXT_BYTES = 32 * 1024
UNATTRIBUTED = "(unattributed)"
ARCH_INDEPENDENT = "arch-independent"

SECTION_LINE = re.compile(
    r"^\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+[0-9a-f]+\s+(\S*)\s")


class SizeError(Exception):
    pass


def run_tool(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        raise SizeError(f"cannot run {command[0]}: {error}") from error
    if result.returncode != 0:
        raise SizeError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result.stdout


def column_of(name: str, kind: str, flags: str) -> str | None:
    if "A" not in flags:
        return None  # debug info, symbol tables: not in the image
    if "W" in flags and "X" in flags:
        return name  # code and data mixed (the identity-mapped boot section): its own column
    if kind == "NOBITS":
        return ".bss"
    if "X" in flags:
        return ".text"
    if "W" in flags:
        return ".data"
    return ".rodata"


def read_sections(readelf: str, elf: Path) -> list[dict]:
    sections = []
    for line in run_tool([readelf, "-S", "-W", str(elf)]).splitlines():
        match = SECTION_LINE.match(line)
        if not match:
            continue
        name, kind, address, size, flags = match.groups()
        column = column_of(name, kind, flags)
        if column is None or int(size, 16) == 0:
            continue
        sections.append({"name": name, "column": column, "start": int(address, 16),
                         "size": int(size, 16)})
    if not sections:
        raise SizeError(f"{elf}: no allocated sections (is it an ELF image?)")
    return sections


def checkout_parts(path: Path, root: Path) -> tuple[str, ...] | None:
    """`path` as parts relative to the checkout, or None for files outside it. Objects may
    come from a compiler cache shared by several checkouts of the tree, so their debug
    info can name another checkout: the path is then matched from its first component
    that is a top-level folder of `root` and names a file there."""
    try:
        return path.relative_to(root).parts
    except ValueError:
        pass
    parts = path.parts
    for index in range(1, len(parts)):
        if (root / parts[index]).is_dir() and root.joinpath(*parts[index:]).exists():
            return parts[index:]
    return None


def folder_of(source: str, root: Path) -> str:
    path = Path(os.path.normpath(source))
    if "generated" in path.parts and "kabi-gen" in path.parts:
        return "generated"  # kabi-gen's headers, in whichever build tree
    parts = checkout_parts(path, root)
    if parts is None:
        return "(toolchain headers)"
    # nucleus/<sub>, arch/<arch>, kabi-gen/sdk; a file at a folder's top counts as the folder.
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


CU_START = re.compile(r"DW_TAG_compile_unit")
CU_NAME = re.compile(r"DW_AT_name\s*:\s*(?:\(.*\):\s*)?(.+)$")
CU_DIRECTORY = re.compile(r"DW_AT_comp_dir\s*:\s*(?:\(.*\):\s*)?(.+)$")
VARIABLE_ADDRESS = re.compile(r"DW_AT_location\s*:.*\(DW_OP_addr: ([0-9a-f]+)\)")


def read_variable_units(objdump: str, elf: Path) -> dict[int, str]:
    """Address of every variable with a fixed address -> the source file of the compilation
    unit that describes it: the line info nm uses covers code only."""
    units: dict[int, str] = {}
    name = directory = None
    expect_unit = False
    for line in run_tool([objdump, "--dwarf=info", str(elf)]).splitlines():
        if CU_START.search(line):
            expect_unit, name, directory = True, None, None
            continue
        if expect_unit:
            if name is None and (match := CU_NAME.search(line)):
                name = match.group(1).strip()
            elif directory is None and (match := CU_DIRECTORY.search(line)):
                directory = match.group(1).strip()
            if name is not None and directory is not None:
                expect_unit = False
                name = str(Path(directory) / name)
            continue
        match = VARIABLE_ADDRESS.search(line)
        if match and name is not None:
            units.setdefault(int(match.group(1), 16), name)
    return units


def object_source(object_path: Path, objects: Path, build_root: Path, root: Path) -> str:
    """CMake's object path -> its source: <build>/<dir>/CMakeFiles/<target>.dir/<path>.o is
    <root>/<dir>/<path>, where "__" stands for "..", as CMake spells it."""
    source_directory = root / objects.relative_to(build_root).parent.parent
    relative = [".." if part == "__" else part for part in object_path.relative_to(objects).parts]
    return os.path.normpath(source_directory.joinpath(*relative).with_suffix(""))


def read_object_definitions(nm: str, objects: Path | None, root: Path) -> dict[str, str]:
    """Symbol name -> source file, for names exactly one object file of the image defines:
    the assembly files' data labels (a boot stack, entry vectors) carry no debug info."""
    if objects is None:
        return {}
    build_root = next((parent for parent in objects.parents if (parent / "CMakeCache.txt").is_file()),
                      None)
    files = sorted(objects.rglob("*.o"))
    if build_root is None or not files:
        raise SizeError(f"{objects}: not a CMake object directory with object files")
    definers: dict[str, set[str]] = {}
    current = None
    sources = {str(path): object_source(path, objects, build_root, root) for path in files}
    for line in run_tool([nm, "--defined-only"] + [str(path) for path in files]).splitlines():
        if line.endswith(":") and line[:-1] in sources:
            current = sources[line[:-1]]
            continue
        fields = line.split()
        if current and len(fields) == 3 and fields[1] not in "aAN":
            definers.setdefault(fields[2], set()).add(current)
    return {name: next(iter(owners)) for name, owners in definers.items() if len(owners) == 1}


def read_symbols(nm: str, objdump: str, elf: Path, root: Path,
                 objects: Path | None) -> list[tuple[int, int | None, str | None]]:
    """(address, size or None, folder or None) of every defined symbol, by address. The
    source comes from the line info, else the debug info of a variable at that address,
    else the one object file defining that name."""
    variables = read_variable_units(objdump, elf)
    definitions = read_object_definitions(nm, objects, root)
    symbols = []
    for line in run_tool([nm, "-S", "-l", "-n", "--defined-only", str(elf)]).splitlines():
        text, _, location = line.partition("\t")
        fields = text.split()
        if len(fields) == 4:
            address, size, kind, name = int(fields[0], 16), int(fields[1], 16), fields[2], fields[3]
        elif len(fields) == 3:
            address, size, kind, name = int(fields[0], 16), None, fields[1], fields[2]
        else:
            continue
        if kind in "aAN":
            continue  # absolute values and debug symbols occupy no image bytes
        source = (location.rsplit(":", 1)[0] if location else
                  variables.get(address) or definitions.get(name, ""))
        symbols.append((address, size, folder_of(source, root) if source else None))
    return symbols


def columns_of(sections: list[dict]) -> list[str]:
    extra = sorted({s["column"] for s in sections} - set(COLUMNS))
    return list(COLUMNS) + extra


def attribute(sections: list[dict], symbols: list[tuple[int, int | None, str | None]]) -> dict:
    """{folder: {column: bytes}}; every byte of every section counted exactly once."""
    table: dict[str, dict[str, int]] = {}
    columns = columns_of(sections)

    def add(folder: str, column: str, count: int) -> None:
        if count > 0:
            row = table.setdefault(folder, dict.fromkeys(columns, 0))
            row[column] += count

    for section in sections:
        start, end = section["start"], section["start"] + section["size"]
        inside = [symbol for symbol in symbols if start <= symbol[0] < end]
        owned: dict[str, int] = {}
        covered = start
        for index, (address, size, folder) in enumerate(inside):
            if size is None:
                following = [other[0] for other in inside[index + 1:] if other[0] > address]
                size = (following[0] if following else end) - address
            symbol_end = min(address + size, end)
            if folder is None or symbol_end <= covered:
                continue
            begin = max(address, covered)
            owned[folder] = owned.get(folder, 0) + symbol_end - begin
            covered = symbol_end
        rest = section["size"] - sum(owned.values())
        if len(owned) == 1 and next(iter(owned)).startswith("arch/"):
            owned[next(iter(owned))] += rest
            rest = 0
        for folder, count in owned.items():
            add(folder, section["column"], count)
        add(UNATTRIBUTED, section["column"], rest)
    return table


def default_objects(elf: Path) -> Path | None:
    """The kernel's object directory in the build tree holding `elf`, if there is one."""
    found = sorted(elf.parent.glob("arch/*/CMakeFiles/umka_kernel_objects.dir"))
    return found[0] if found else None


def measure(elf: Path, root: Path, nm: str = "nm", readelf: str = "readelf",
            objdump: str = "objdump", objects: Path | None = None) -> dict:
    if not elf.is_file():
        raise SizeError(f"{elf}: no such file (build the nucleus first)")
    sections = read_sections(readelf, elf)
    table = attribute(sections, read_symbols(nm, objdump, elf, root, objects))
    columns = columns_of(sections)
    totals = dict.fromkeys(columns, 0)
    for section in sections:
        totals[section["column"]] += section["size"]
    independent = dict.fromkeys(columns, 0)
    for folder, row in table.items():
        if not folder.startswith("arch/"):
            for column in columns:
                independent[column] += row[column]
    return {
        "elf": str(elf),
        "columns": columns,
        "sections": [{"name": s["name"], "column": s["column"], "size": s["size"]} for s in sections],
        "folders": dict(sorted(table.items(), key=lambda item: (-item[1][".text"], item[0]))),
        "arch_independent": independent,
        "total": totals,
        "goal_text_bytes": GOAL_TEXT_BYTES,
    }


def kib(count: int) -> str:
    return f"{count / 1024:8.1f}"


def render(report: dict) -> str:
    lines = [f"nucleus size: {report['elf']} (KiB; sections "
             + ", ".join(f"{s['name']}->{s['column']}" for s in report["sections"]) + ")"]
    columns = report["columns"]
    header = f"  {'folder':24s}" + "".join(f"{column:>9s}" for column in columns)
    lines.append(header)
    arch_rows = []
    for folder, row in report["folders"].items():
        target = arch_rows if folder.startswith("arch/") else lines
        target.append(f"  {folder:24s}" + "".join(f" {kib(row[c])}" for c in columns))
    lines.append(f"  {ARCH_INDEPENDENT:24s}"
                 + "".join(f" {kib(report['arch_independent'][c])}" for c in columns))
    lines.extend(arch_rows)
    lines.append(f"  {'total (ELF sections)':24s}" + "".join(f" {kib(report['total'][c])}" for c in columns))
    text = report["arch_independent"][".text"]
    goal = report["goal_text_bytes"]
    verdict = "met" if text <= goal else f"not met, {text / goal:.2f}x the goal"
    lines.append(f"  arch-independent .text {text / 1024:.1f} KiB against the goal of "
                 f"{goal // 1024} KiB: {verdict}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("elf", type=Path)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (bytes)")
    parser.add_argument("--source-root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the checkout the image was built from (default: this one)")
    parser.add_argument("--nm", default="nm")
    parser.add_argument("--readelf", default="readelf")
    parser.add_argument("--objdump", default="objdump")
    parser.add_argument("--objects", type=Path,
                        help="the object files the image was linked from (default: the build "
                             "tree's arch/*/CMakeFiles/umka_kernel_objects.dir next to the image)")
    arguments = parser.parse_args()
    try:
        report = measure(arguments.elf, arguments.source_root.resolve(), arguments.nm,
                         arguments.readelf, arguments.objdump,
                         arguments.objects or default_objects(arguments.elf))
    except SizeError as error:
        print(f"nucleus_size: {error}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=1) if arguments.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
