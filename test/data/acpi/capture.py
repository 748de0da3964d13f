#!/usr/bin/env python3
"""Captures QEMU's ACPI tables through the nucleus's `acpidump` console command.

    capture.py --build build --smp 4 --output test/data/acpi/qemu-pc-smp4.txt
    capture.py --build build --machine q35 --smp 2 --output test/data/acpi/qemu-q35-smp2.txt

The output keeps the dump lines as the guest printed them ("rsdp at ...", "table SIG at
ADDRESS length N" followed by hex lines); test/host/acpi_capture.cpp rebuilds physical
memory from them for the ACPI parser tests.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNNER = HERE.parent.parent / "qemu" / "umka_qemu.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--smp", default="1")
    parser.add_argument("--machine", choices=("pc", "q35"), default="pc")
    parser.add_argument("--output", required=True, type=Path)
    arguments = parser.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as script:
        script.write("acpidump\npoweroff\n")
        script.flush()
        result = subprocess.run([sys.executable, str(RUNNER), "--build", arguments.build, "--accel", "tcg",
                                 "--smp", arguments.smp, "--machine", arguments.machine, "--script", script.name, "--timeout", "60"],
                                capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout)
        return result.returncode
    lines = result.stdout.replace("\r", "").splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("rsdp at "))
    end = next(index for index, line in enumerate(lines) if line.startswith("acpidump: end"))
    arguments.output.write_text("\n".join(lines[start:end]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
