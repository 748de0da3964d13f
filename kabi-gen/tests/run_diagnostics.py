#!/usr/bin/env python3
"""Negative tests: every diagnostic kabi-gen can emit has a case in tests/diagnostics/.

A case file holds one or more .kabi files and its expectations:
    // expect: main.kabi:3:5 duplicate-ordinal
    --- file main.kabi        (optional; without sections the case is one file, main.kabi)
    ...
    // run: missing.kabi      (optional: the file passed to kabi-gen; default main.kabi)
Each case must fail with exit status 1, report every expected code at the expected
place, report no other error, and show a fix line when it expects one (`expect-fix`)."""
import argparse
import pathlib
import re
import shutil
import subprocess
import sys

SOURCE_DIR = pathlib.Path(__file__).resolve().parent.parent / "src"


def emitted_codes():
    codes = set()
    for source in SOURCE_DIR.glob("*.cpp"):
        text = source.read_text()
        codes.update(re.findall(r'(?:sink_?\.error|sink_\.warning)\(\s*"([a-z0-9-]+)"', text))
    return codes


def split_case(text):
    files = {}
    current = "main.kabi"
    lines = []
    for line in text.splitlines(keepends=True):
        match = re.match(r"--- file (\S+)\s*$", line)
        if match:
            if lines and current is not None:
                files[current] = "".join(lines)
            current, lines = match.group(1), []
            continue
        lines.append(line)
    files[current] = "".join(lines)
    return files


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kabi-gen", required=True)
    parser.add_argument("--cases", required=True, type=pathlib.Path)
    parser.add_argument("--work-dir", required=True, type=pathlib.Path)
    arguments = parser.parse_args()

    shutil.rmtree(arguments.work_dir, ignore_errors=True)
    covered = set()
    failures = 0
    cases = sorted(arguments.cases.glob("*.case"))
    for case in cases:
        text = case.read_text()
        expectations = re.findall(r"//\s*expect:\s*(\S+):(\d+):(\d+)\s+([a-z0-9-]+)", text)
        fixes = re.findall(r"//\s*expect-fix:\s*(.+)", text)
        run = re.search(r"//\s*run:\s*(\S+)", text)
        target = run.group(1) if run else "main.kabi"
        directory = arguments.work_dir / case.stem
        directory.mkdir(parents=True)
        for name, content in split_case(text).items():
            (directory / name).write_text(content)
        result = subprocess.run([arguments.kabi_gen, "--check", target], cwd=directory, capture_output=True,
                                text=True)
        output = result.stderr + result.stdout
        problems = []
        if not expectations:
            problems.append("case has no '// expect: FILE:LINE:COL CODE' line")
        if result.returncode != 1:
            problems.append(f"exit status {result.returncode}, expected 1")
        for file, line, column, code in expectations:
            covered.add(code)
            if f"{file}:{line}:{column}: error[{code}]" not in output:
                problems.append(f"missing '{file}:{line}:{column}: error[{code}]'")
        reported = len(re.findall(r": error\[", output))
        if reported != len(expectations):
            problems.append(f"{reported} errors reported, {len(expectations)} expected")
        for fix in fixes:
            if f"fix: {fix.strip()}" not in output:
                problems.append(f"missing 'fix: {fix.strip()}'")
        if problems:
            failures += 1
            print(f"FAIL {case.name}: " + "; ".join(problems))
            print(output)
    missing = sorted(emitted_codes() - covered)
    if missing:
        failures += 1
        print("diagnostic codes without a negative test: " + ", ".join(missing))
    print(f"{len(cases)} diagnostic cases, {len(covered)} codes covered, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
