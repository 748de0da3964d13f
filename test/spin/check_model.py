#!/usr/bin/env python3
"""Runs spin on a Promela model and checks the outcome, for ctest.

For each model: `spin -a [-D...] MODEL` writes pan.c; it is compiled twice:
  safety    gcc -DNOCLAIM: assertions and invalid end states (a process blocked for ever,
            e.g. asleep with a message pending), never claims off;
  liveness  gcc: `./pan -a -f` checks the model's LTL property (acceptance cycles, weak
            fairness), e.g. "eventually every message is delivered".
--expect pass: both runs must report "errors: 0" and a complete search (no depth limit
hit). --expect fail: at least one run must report errors > 0; the first error and the
guided trail (spin -t) are printed, so the log shows the counterexample.
Anything else (spin or gcc missing or failing, output without an "errors:" line) fails.
"""
import argparse
import pathlib
import re
import shutil
import subprocess
import sys

DEPTH_LIMIT = "-m200000"


def run(command, cwd, what):
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0 and what != "pan":
        sys.stdout.write(result.stdout + result.stderr)
        raise SystemExit(f"check_model: {what} failed (exit {result.returncode}): {' '.join(command)}")
    return result.stdout + result.stderr


def errors_in(output, run_name):
    match = re.search(r"errors: (\d+)", output)
    if match is None:
        sys.stdout.write(output)
        raise SystemExit(f"check_model: the {run_name} run printed no 'errors:' line")
    return int(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spin", default="spin")
    parser.add_argument("--cc", default="gcc")
    parser.add_argument("--work-dir", required=True, type=pathlib.Path)
    parser.add_argument("--expect", choices=["pass", "fail"], required=True)
    parser.add_argument("-D", dest="defines", action="append", default=[], help="NAME[=VALUE] for spin's preprocessor")
    parser.add_argument("model", type=pathlib.Path)
    arguments = parser.parse_args()

    for tool in (arguments.spin, arguments.cc):
        if shutil.which(tool) is None:
            raise SystemExit(f"check_model: '{tool}' not found (./umka installs the Debian package spin)")

    work = arguments.work_dir
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    # Copy the model and its siblings (a variant #includes ring.pml) so pan's files and
    # trails stay in the build tree.
    for source in arguments.model.parent.glob("*.pml"):
        shutil.copy(source, work / source.name)
    model = arguments.model.name
    defines = [f"-D{define}" for define in arguments.defines]
    label = model + (" " + " ".join(defines) if defines else "")

    run([arguments.spin, *defines, "-a", model], work, "spin -a")
    run([arguments.cc, "-O2", "-DNOCLAIM", "-o", "pan_safety", "pan.c"], work, "gcc (safety)")
    run([arguments.cc, "-O2", "-o", "pan_liveness", "pan.c"], work, "gcc (liveness)")

    outcomes = {}
    for run_name, command in (("safety", ["./pan_safety", DEPTH_LIMIT]),
                              ("liveness", ["./pan_liveness", "-a", "-f", DEPTH_LIMIT])):
        output = run(command, work, "pan")
        errors = errors_in(output, run_name)
        states = re.search(r"(\d+) states, stored", output)
        print(f"{label}: {run_name}: errors: {errors}, {states.group(1) if states else '?'} states stored")
        if errors == 0 and "max search depth too small" in output:
            raise SystemExit(f"check_model: the {run_name} search hit the depth limit ({DEPTH_LIMIT}); "
                             "the result would be incomplete")
        if errors > 0:
            first = next((line for line in output.splitlines() if line.startswith("pan:1:")), "")
            print(f"  first error: {first}")
            trail = run([arguments.spin, *defines, "-t", "-p", "-g", model], work, "pan")
            lines = trail.splitlines()
            print("  counterexample (last steps of spin -t -p):")
            for line in lines[-25:]:
                print("    " + line)
            (work / model).with_suffix(f".{run_name}.trail").write_text(trail)
        outcomes[run_name] = errors

    failed = any(errors > 0 for errors in outcomes.values())
    if arguments.expect == "pass" and failed:
        print(f"check_model: FAIL: spin found errors in {label}, which must hold")
        return 1
    if arguments.expect == "fail" and not failed:
        print(f"check_model: FAIL: spin found no error in {label}, which must fail "
              "(the model or the checker lost the power to see the bug)")
        return 1
    print(f"check_model: ok: {label} {'holds' if arguments.expect == 'pass' else 'fails as it must'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
