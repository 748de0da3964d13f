#!/usr/bin/env python3
"""Fails unless the ring's kernel-flag objects need only the allowed external symbols.

The ring code goes into the nucleus, which has no libgcc, no libatomic, no heap and no C
library beyond nucleus/lib/string.cpp. An undefined symbol such as __atomic_load_8,
operator new or __cxa_guard_acquire here would only show up as a link error of the kernel
image; this names it at once. Symbols defined by one of the ring objects are fine.
"""
import argparse
import subprocess
import sys


def symbols(path, flag):
    output = subprocess.run(["nm", flag, path], check=True, capture_output=True, text=True).stdout
    return {line.split()[-1] for line in output.splitlines() if line.strip()}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--allow", action="append", default=[], help="an allowed undefined symbol")
    parser.add_argument("objects", nargs="+")
    arguments = parser.parse_args()
    if not arguments.objects:
        print("check_kernel_objects: no object files given", file=sys.stderr)
        return 1
    defined, undefined = set(), {}
    for path in arguments.objects:
        defined |= symbols(path, "--defined-only")
        for symbol in symbols(path, "--undefined-only"):
            undefined.setdefault(symbol, path)
    problems = {s: p for s, p in undefined.items() if s not in defined and s not in arguments.allow}
    for symbol, path in sorted(problems.items()):
        print(f"check_kernel_objects: {path} needs '{symbol}', which the nucleus does not provide")
    if problems:
        return 1
    print(f"check_kernel_objects: {len(arguments.objects)} objects need only "
          f"{sorted(set(undefined) - defined) or 'nothing'} from outside")
    return 0


if __name__ == "__main__":
    sys.exit(main())
