#!/usr/bin/env python3
"""Every complete example in docs/kabi-idl.md (a ```kabi block starting with `package`)
must pass `kabi-gen --check` against kabi-idl/, so the reference cannot drift."""
import argparse
import pathlib
import re
import shutil
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kabi-gen", required=True)
    parser.add_argument("--doc", required=True, type=pathlib.Path)
    parser.add_argument("--idl-dir", required=True)
    parser.add_argument("--work-dir", required=True, type=pathlib.Path)
    arguments = parser.parse_args()
    shutil.rmtree(arguments.work_dir, ignore_errors=True)
    arguments.work_dir.mkdir(parents=True)
    blocks = re.findall(r"```kabi\n(.*?)```", arguments.doc.read_text(), re.S)
    complete = [block for block in blocks if re.search(r"^package\s+\w+", block, re.M)]
    failures = 0
    for block in complete:
        package = re.search(r"^package\s+(\w+)", block, re.M).group(1)
        path = arguments.work_dir / f"{package}.kabi"
        path.write_text(block)
        result = subprocess.run([arguments.kabi_gen, "-I", arguments.idl_dir, "--check", str(path)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            failures += 1
            print(f"example '{package}' in {arguments.doc} does not check:\n{result.stderr}")
    print(f"{len(complete)} complete example(s), {len(blocks)} block(s), {failures} failure(s)")
    return 1 if failures or not complete else 0


if __name__ == "__main__":
    sys.exit(main())
