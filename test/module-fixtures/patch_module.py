#!/usr/bin/env python3
"""Writes a byte-patched copy of a good module for the loader tests.

usage: patch_module.py VARIANT INPUT OUTPUT
  truncated_header  the first 40 bytes only (an ELF header cut short)
  wrong_machine     e_machine set to 183 (EM_AARCH64)
  truncated_file    the first half of the file (tables and segments run past its end)
"""
import struct
import sys


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    variant, source, destination = sys.argv[1:]
    data = bytearray(open(source, "rb").read())
    if data[:4] != b"\x7fELF":
        print(f"{source}: not an ELF file", file=sys.stderr)
        return 1
    if variant == "truncated_header":
        data = data[:40]
    elif variant == "wrong_machine":
        struct.pack_into("<H", data, 18, 183)
    elif variant == "truncated_file":
        data = data[: len(data) // 2]
    else:
        print(f"unknown variant {variant}", file=sys.stderr)
        return 2
    with open(destination, "wb") as output:
        output.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
