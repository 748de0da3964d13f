#!/usr/bin/env python3
"""Regenerates the headers of tests/idl/ and diffs them against tests/golden/.

Run with --update to accept new output (review the diff in git first)."""
import argparse
import difflib
import pathlib
import shutil
import subprocess
import sys

PACKAGES = ["sample_device", "sample_consumer"]
SUFFIXES = [".hpp", ".h", "_ring.hpp", "_manifest.hpp", "_state.hpp"]
# Per-run outputs (not per package): the nucleus's ring adapter table over both packages.
RUN_OUTPUTS = ["kabi_base.h", "ring_adapter_table.hpp"]
EMIT = "base,cpp,c,ring,manifest,state,ring-table"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kabi-gen", required=True)
    parser.add_argument("--idl-dir", required=True, type=pathlib.Path)
    parser.add_argument("--golden-dir", required=True, type=pathlib.Path)
    parser.add_argument("--work-dir", required=True, type=pathlib.Path)
    parser.add_argument("--update", action="store_true")
    arguments = parser.parse_args()

    shutil.rmtree(arguments.work_dir, ignore_errors=True)
    arguments.work_dir.mkdir(parents=True)
    # Relative inputs so the "Generated from" comments do not depend on the checkout path.
    command = [arguments.kabi_gen, "--out-dir", str(arguments.work_dir.resolve()), "--emit", EMIT] + [
        package + ".kabi" for package in PACKAGES]
    result = subprocess.run(command, cwd=arguments.idl_dir, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout, result.stderr)
        return 1
    names = RUN_OUTPUTS + [package + suffix for package in PACKAGES for suffix in SUFFIXES]
    failures = 0
    for name in names:
        generated = arguments.work_dir / "umka" / "kabi" / name
        golden = arguments.golden_dir / name
        if arguments.update:
            arguments.golden_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(generated, golden)
            continue
        if not golden.exists():
            print(f"missing golden file {golden}; run with --update")
            failures += 1
            continue
        expected = golden.read_text().splitlines(keepends=True)
        actual = generated.read_text().splitlines(keepends=True)
        if expected != actual:
            failures += 1
            sys.stdout.writelines(difflib.unified_diff(expected, actual, str(golden), str(generated)))
    if failures:
        print(f"{failures} golden file(s) differ; if intended: {' '.join(sys.argv)} --update")
        return 1
    print(f"{len(names)} generated files match their golden copies" if not arguments.update else "updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
