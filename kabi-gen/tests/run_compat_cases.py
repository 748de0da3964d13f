#!/usr/bin/env python3
"""One old/new pair per compat rule, in tests/compat/<rule>.case:
    // expect: incompatible method-removed
    --- old
    package p version 1; ...
    --- new
    package p version 1; ...
The pair must produce that classification for that rule, exit 1 exactly when some
finding is incompatible, and every rule the checker knows must have a case. A case with
a `// expect-only` line must produce no finding besides the expected ones."""
import argparse
import pathlib
import re
import shutil
import subprocess
import sys

SOURCE = pathlib.Path(__file__).resolve().parent.parent / "src" / "compat.cpp"


def known_rules():
    text = SOURCE.read_text()
    rules = set(re.findall(r'add\(Compatibility::\w+,\s*"([a-z0-9-]+)"', text))
    rules.update(re.findall(r'add\(\w+ \? Compatibility::\w+ : Compatibility::\w+,\s*"([a-z0-9-]+)"', text))
    for kind in re.findall(r'pair_up\([^;]*?"(\w+)",', text, re.S):
        rules.update({kind + "-removed", kind + "-added"})
    return rules


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
        output = ""
        text = case.read_text()
        expectations = re.findall(r"//\s*expect:\s*(compatible|needs-review|incompatible)\s+([a-z0-9-]+)", text)
        parts = re.split(r"^--- (old|new)\s*$", text, flags=re.M)
        sections = dict(zip(parts[1::2], parts[2::2]))
        problems = []
        if "old" not in sections or "new" not in sections or not expectations:
            problems.append("case needs '// expect:', '--- old' and '--- new'")
        else:
            paths = {}
            for side in ("old", "new"):
                package = re.search(r"package\s+(\w+)", sections[side]).group(1)
                (arguments.work_dir / case.stem / side).mkdir(parents=True)
                (arguments.work_dir / case.stem / side / f"{package}.kabi").write_text(sections[side])
                paths[side] = f"{side}/{package}.kabi"
            result = subprocess.run([arguments.kabi_gen, "--compat", paths["old"], paths["new"]],
                                    cwd=arguments.work_dir / case.stem, capture_output=True, text=True)
            output = result.stdout + result.stderr
            for compatibility, rule in expectations:
                covered.add(rule)
                if not re.search(rf"^{compatibility}\[{re.escape(rule)}\]: .*\n    old: .*\n    new: .*$", output,
                                 re.M):
                    problems.append(f"missing {compatibility}[{rule}] with old/new locations")
            if re.search(r"//\s*expect-only\b", text):
                reported = re.findall(r"^(compatible|needs-review|incompatible)\[([a-z0-9-]+)\]", output, re.M)
                unexpected = [f"{kind}[{rule}]" for kind, rule in reported if (kind, rule) not in expectations]
                if unexpected:
                    problems.append("unexpected findings: " + ", ".join(unexpected))
            any_incompatible = re.search(r"^incompatible\[", output, re.M) is not None
            if result.returncode != (1 if any_incompatible else 0):
                problems.append(f"exit status {result.returncode} does not match the findings")
            if "error[" in output:
                problems.append("the pair does not parse cleanly")
        if problems:
            failures += 1
            print(f"FAIL {case.name}: " + "; ".join(problems))
            print(output)
    missing = sorted(known_rules() - covered)
    if missing:
        failures += 1
        print("compat rules without a pair: " + ", ".join(missing))
    print(f"{len(cases)} compat pairs, {len(covered)} rules covered, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
