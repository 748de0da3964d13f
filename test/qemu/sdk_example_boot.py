#!/usr/bin/env python3
"""Boots the example driver's bundle with the installed SDK's own launcher and nucleus.

    sdk_example_boot.py --prefix SDK --bundle hello_bundle.cpio [--accel tcg|kvm]

The bundle was built out of tree from the installed SDK alone (kabi-gen/tests/
build_sdk_example.cmake). On its console: the module's own command `hello` (console_command.
CommandSet), listed by `help`; a live swap to hello_driver-v2.umod and back, with the
greeting count (HelloState, nucleus memory) going on across both swaps; the start function
of each new instance logging what it took over; the console's lookup of the command set
recorded as a binding. Exit 0 when every check passes.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from boot_test import (Failure, command_output, expect, expect_clean_power_off,  # noqa: E402
                       expect_swapped, expect_text)

SCRIPT = [
    "help",
    "hello",
    "hello ada",
    "evolve --dry-run hello_driver hello_driver-v2.umod",
    "evolve hello_driver hello_driver-v2.umod",
    "hello",
    "mods",
    "evolve --allow-downgrade hello_driver hello_driver.umod",
    "hello",
    "services",
    "poweroff",
]


def greeting(output: str, line: str, occurrence: int, name: str, number: int, version: int) -> None:
    section = command_output(output, line, occurrence)
    expect(f"hello, {name}\ngreeting {number} from hello_driver version {version}\n" in section,
           f"'{line}' (#{occurrence + 1}) did not answer greeting {number} from version {version}:\n"
           f"{section}")


def check(status: int, output: str) -> None:
    expect("hello [name]  greets NAME" in command_output(output, "help"),
           "help does not list the module's command")
    expect_text(output, "hello_driver version 1 started, 0 greeting(s) so far")
    greeting(output, "hello", 0, "world", 1, 1)
    greeting(output, "hello ada", 0, "ada", 2, 1)
    # A dry run binds the replacement but never starts it: nothing logged, nothing changed.
    dry = command_output(output, "evolve --dry-run hello_driver hello_driver-v2.umod")
    expect("dry run" in dry and "evolve: dry run passed" in dry, f"the dry run did not pass:\n{dry}")
    expect(output.count("hello_driver version 2 started") == 1,
           "version 2 started other than once (a dry run must not start it)")
    swapped = command_output(output, "evolve hello_driver hello_driver-v2.umod")
    expect_swapped(swapped, "hello_driver", "hello_driver-v2.umod")
    expect("the new module started" in swapped, f"the swap did not start version 2:\n{swapped}")
    expect_text(output, "hello_driver version 2 started, 2 greeting(s) so far")
    greeting(output, "hello", 1, "world", 3, 2)
    expect(re.search(r"^hello_driver\s+2\s", command_output(output, "mods"), re.MULTILINE) is not None,
           "mods does not show hello_driver version 2 after the swap")
    # Back to version 1: a downgrade, allowed by the flag.
    expect_swapped(command_output(output, "evolve --allow-downgrade hello_driver hello_driver.umod"),
                   "hello_driver", "hello_driver.umod")
    expect_text(output, "hello_driver version 1 started, 3 greeting(s) so far")
    greeting(output, "hello", 2, "world", 4, 1)
    expect(re.search(r"console_service\s+-> hello_driver\s+console_command\.CommandSet",
                     command_output(output, "services")) is not None,
           "services does not list the console's binding to the module's commands")
    expect_clean_power_off(status, output)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", required=True, type=Path, help="the installed SDK")
    parser.add_argument("--bundle", required=True, type=Path)
    parser.add_argument("--accel", default="tcg", choices=("tcg", "kvm"))
    arguments = parser.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as handle:
        handle.write("\n".join(SCRIPT) + "\n")
        handle.flush()
        result = subprocess.run(
            [str(arguments.prefix / "bin" / "umka-qemu"), "--accel", arguments.accel, "--smp", "2",
             "--bundle", str(arguments.bundle), "--script", handle.name, "--timeout", "240"],
            capture_output=True, text=True, errors="replace")
    output = result.stdout.replace("\r", "")
    sys.stdout.write(output)
    sys.stderr.write(result.stderr)
    try:
        check(result.returncode, output)
    except Failure as failure:
        print(f"FAIL: {failure}")
        return 1
    print("PASS: the SDK-built example booted, ran its command and swapped to -v2 and back")
    return 0


if __name__ == "__main__":
    sys.exit(main())
