#!/usr/bin/env python3
"""Negative tests: every diagnostic kabi-gen can emit has a case in tests/diagnostics/.

A case file holds one or more .kabi files and its expectations:
    // expect: main.kabi:3:5 duplicate-ordinal
    --- file main.kabi        (optional; without sections the case is one file, main.kabi)
    ...
    // run: missing.kabi      (optional: the file passed to kabi-gen; default main.kabi)
Each case must fail with exit status 1, report every expected code at the expected
place, report no other error, and show a fix line when it expects one (`expect-fix`).

Bad inputs too big or too odd to commit (a 10,000-file import chain, /dev/zero, a
directory, files over the size limits, a non-UTF-8 byte, a megabyte line) are generated
at test time by generated_cases(); they are checked the same way, plus the text the
message must contain and a bound on the size of the whole report."""
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


# The limits of kabi-gen/src/workspace.h and diagnostics.h (docs/kabi-idl.md §14).
MAXIMUM_FILE_BYTES = 1 << 20
MAXIMUM_WORKSPACE_BYTES = 16 << 20
MAXIMUM_WORKSPACE_FILES = 1024
MAXIMUM_IMPORT_DEPTH = 64
ECHO_CONTEXT = 100


class Case:
    def __init__(self, name, directory, target, expectations, fixes=(), texts=(), output_limit=None):
        self.name, self.directory, self.target = name, directory, target
        self.expectations, self.fixes, self.texts = expectations, fixes, texts
        self.output_limit = output_limit  # bytes: diagnostics must not echo whole inputs


def generated_cases(root):
    """Writes each generated case's files under root; yields Case objects."""
    def directory_for(name):
        directory = root / name
        directory.mkdir(parents=True)
        return directory

    chain = directory_for("generated_import_chain_10000")
    for index in range(10000):
        body = f"package p{index} version 1;\n" + (f"import p{index + 1};\n" if index < 9999 else "")
        (chain / f"p{index}.kabi").write_text(body)
    yield Case(chain.name, chain, "p0.kabi",
               [(f"./p{MAXIMUM_IMPORT_DEPTH}.kabi", "2", "8", "import-too-deep")],
               texts=[f"importing 'p{MAXIMUM_IMPORT_DEPTH + 1}' nests imports {MAXIMUM_IMPORT_DEPTH + 1} deep; "
                      f"the limit is {MAXIMUM_IMPORT_DEPTH}"])

    yield Case("generated_dev_zero", directory_for("generated_dev_zero"), "/dev/zero",
               [("/dev/zero", "0", "0", "cannot-read")],
               texts=["/dev/zero: not a regular file (a character device)"])

    folder = directory_for("generated_directory")
    (folder / "main.kabi").mkdir()
    yield Case(folder.name, folder, "main.kabi", [("main.kabi", "0", "0", "cannot-read")],
               texts=["main.kabi: is a directory"])

    big = directory_for("generated_file_too_large")
    (big / "main.kabi").write_text("package main version 1;\n//" + "x" * MAXIMUM_FILE_BYTES + "\n")
    (big / "importer.kabi").write_text("package importer version 1;\nimport main;\n")
    yield Case(big.name, big, "importer.kabi", [("importer.kabi", "2", "8", "cannot-read")],
               texts=[f"main.kabi: larger than the limit of {MAXIMUM_FILE_BYTES} bytes"])

    # Files just under the per-file limit, imported until the workspace total is exceeded.
    total = directory_for("generated_workspace_bytes")
    count = MAXIMUM_WORKSPACE_BYTES // (MAXIMUM_FILE_BYTES - 64) + 1
    for index in range(count):
        header = f"package q{index} version 1;\n//"
        (total / f"q{index}.kabi").write_text(header + "x" * (MAXIMUM_FILE_BYTES - 64 - len(header) - 1) + "\n")
    (total / "main.kabi").write_text("package main version 1;\n" + "".join(f"import q{index};\n" for index in range(count)))
    yield Case(total.name, total, "main.kabi", [("main.kabi", str(count + 1), "8", "workspace-too-large")],
               texts=[f"bytes of source per run"])

    many = directory_for("generated_workspace_files")
    for index in range(MAXIMUM_WORKSPACE_FILES):
        (many / f"q{index}.kabi").write_text(f"package q{index} version 1;\n")
    imports = "".join(f"import q{index};\n" for index in range(MAXIMUM_WORKSPACE_FILES))
    (many / "main.kabi").write_text("package main version 1;\n" + imports)
    # main.kabi is file 1, so the import on line 1 + MAXIMUM_WORKSPACE_FILES is one too many.
    yield Case(many.name, many, "main.kabi",
               [("main.kabi", str(MAXIMUM_WORKSPACE_FILES + 1), "8", "workspace-too-large")],
               texts=[f"would exceed the limit of {MAXIMUM_WORKSPACE_FILES} files per run"])

    byte = directory_for("generated_non_utf8_byte")
    (byte / "main.kabi").write_bytes(b"package main version 1;\n\xc3\n")
    yield Case(byte.name, byte, "main.kabi", [("main.kabi", "2", "1", "unexpected-character")],
               texts=["unexpected character '\\xc3'"])

    line = directory_for("generated_long_line")
    padding = " " * 500000
    (line / "main.kabi").write_text("package main version 1;\n" + padding + "@" + padding + "\n")
    yield Case(line.name, line, "main.kabi", [("main.kabi", "2", str(len(padding) + 1), "syntax")],
               texts=["    ..." + " " * (ECHO_CONTEXT - 3), "@" + " " * ECHO_CONTEXT + "...\n"],
               output_limit=4096)


def run_case(kabi_gen, case):
    result = subprocess.run([kabi_gen, "--check", case.target], cwd=case.directory, capture_output=True)
    output = (result.stderr + result.stdout).decode("utf-8", errors="backslashreplace")
    problems = []
    if not case.expectations:
        problems.append("case has no '// expect: FILE:LINE:COL CODE' line")
    if result.returncode != 1:
        problems.append(f"exit status {result.returncode}, expected 1")
    for file, line, column, code in case.expectations:
        if f"{file}:{line}:{column}: error[{code}]" not in output:
            problems.append(f"missing '{file}:{line}:{column}: error[{code}]'")
    reported = len(re.findall(r": error\[", output))
    if reported != len(case.expectations):
        problems.append(f"{reported} errors reported, {len(case.expectations)} expected")
    for fix in case.fixes:
        if f"fix: {fix.strip()}" not in output:
            problems.append(f"missing 'fix: {fix.strip()}'")
    for text in case.texts:
        if text not in output:
            problems.append(f"missing text {text!r}")
    if case.output_limit is not None and len(output) > case.output_limit:
        problems.append(f"report is {len(output)} bytes, more than {case.output_limit}")
    return problems, output


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kabi-gen", required=True)
    parser.add_argument("--cases", required=True, type=pathlib.Path)
    parser.add_argument("--work-dir", required=True, type=pathlib.Path)
    arguments = parser.parse_args()

    shutil.rmtree(arguments.work_dir, ignore_errors=True)
    cases = []
    for case_file in sorted(arguments.cases.glob("*.case")):
        text = case_file.read_text()
        expectations = re.findall(r"//\s*expect:\s*(\S+):(\d+):(\d+)\s+([a-z0-9-]+)", text)
        fixes = re.findall(r"//\s*expect-fix:\s*(.+)", text)
        run = re.search(r"//\s*run:\s*(\S+)", text)
        directory = arguments.work_dir / case_file.stem
        directory.mkdir(parents=True)
        for name, content in split_case(text).items():
            (directory / name).write_text(content)
        cases.append(Case(case_file.name, directory, run.group(1) if run else "main.kabi", expectations, fixes))
    cases.extend(generated_cases(arguments.work_dir))

    covered = set()
    failures = 0
    for case in cases:
        covered.update(code for _, _, _, code in case.expectations)
        problems, output = run_case(arguments.kabi_gen, case)
        if problems:
            failures += 1
            print(f"FAIL {case.name}: " + "; ".join(problems))
            print(output[:20000])
    missing = sorted(emitted_codes() - covered)
    if missing:
        failures += 1
        print("diagnostic codes without a negative test: " + ", ".join(missing))
    print(f"{len(cases)} diagnostic cases, {len(covered)} codes covered, {failures} failure(s)")
    # Generated trees are large (10,000 files, 17 MiB): do not leave them in the build tree.
    if not failures:
        shutil.rmtree(arguments.work_dir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
