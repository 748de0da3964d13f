#!/usr/bin/env python3
"""Crash recovery in the guest (docs/crash-containment.md): from a fault in the serial
driver's code inside a ring request to its fresh instance bound and serving, against a live
swap of the same driver to the same file in the same boot (`evolve serial_console
serial_console.umod`, its whole-swap time). The restart is that swap plus finding the fault,
unwinding it and answering the request with EIO, so the ratio is what containment adds.

Each boot carries the fault-injection fixture, swaps the driver once to warm the paths both
share, takes a crash (#PF), swaps again (the baseline) and takes a second crash (#UD): a
third crash within 60 s would fail the driver (the restart policy), so more samples mean
more boots. Figures are the nucleus's own (`restarted ... in N us`, `evolve`'s total).

    python3 bench/crash_bench.py --build build --accel tcg --boots 3
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "test" / "qemu"))
sys.path.insert(0, str(HERE))
import boot_test  # noqa: E402
import crash_scenario  # noqa: E402
import report  # noqa: E402
import timed_qemu  # noqa: E402
import umka_qemu  # noqa: E402

MEMORY = "512M"
PROMPT = b"umka> "
# The first swap warms the paths a swap and a restart share (TCG translates code on first
# use); the second is the baseline.
SCRIPT = ["evolve serial_console serial_console.umod", "inject serial_console null", "wait 50",
          "evolve serial_console serial_console.umod", "inject serial_console opcode", "wait 50",
          "poweroff"]
RESTART = re.compile(r"containment: 'serial_console' restarted from serial_console\.umod in (\d+) us")
SWAP_TOTAL = re.compile(r"^\s+total\s+(\d+) us$", re.MULTILINE)


def one_boot(build: Path, accel: str, smp: int, bundle: Path) -> tuple[list[int], int]:
    arguments = umka_qemu.parse_arguments(["--build", str(build), "--accel", accel, "--smp", str(smp),
                                           "--memory", MEMORY, "--bundle", str(bundle)])
    with tempfile.TemporaryDirectory() as scratch:
        command = umka_qemu.qemu_command(arguments, Path(scratch)) + ["-serial", "stdio"]
    run = timed_qemu.timed_run(command, PROMPT, SCRIPT, PROMPT, timeout=600)
    output = run.output.replace("\r", "")
    restarts = [int(value) for value in RESTART.findall(output)]
    swaps = SWAP_TOTAL.findall(output)
    if run.status != 0 or len(restarts) != 2 or len(swaps) != 2:
        raise RuntimeError(f"boot failed (status {run.status}, {len(restarts)} restarts): "
                           f"{output.strip()[-300:]}")
    return restarts, int(swaps[1])


def crash_rows(build: Path, accel: str, boots: int, smps: tuple[int, ...] = (1, 4)) -> list[dict]:
    suite = f"crash {accel}"
    rows: list[dict] = []
    with tempfile.NamedTemporaryFile(suffix=".cpio") as handle:
        handle.write(crash_scenario.crash_bundle(boot_test, build))
        handle.flush()
        for smp in smps:
            figure = f"serial driver: fault -> fresh instance serving, smp {smp}"
            baseline_figure = f"live swap of the same driver (evolve), smp {smp}"
            restarts: list[int] = []
            swaps: list[int] = []
            try:
                for number in range(boots):
                    print(f"bench: crash recovery boot {number + 1}/{boots}, smp {smp}", file=sys.stderr,
                          flush=True)
                    times, swap = one_boot(build, accel, smp, Path(handle.name))
                    restarts += times
                    swaps += [swap, swap]  # each restart of the boot against its swap
            except (RuntimeError, boot_test.Failure) as error:
                rows.append(report.failed_row(suite, figure, str(error)))
                continue
            baseline = report.row(suite, baseline_figure, swaps, "us")
            measured = report.row(suite, figure, restarts, "us", f"max {max(restarts)} us over {len(restarts)}")
            rows += [report.divide(measured, baseline), baseline]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, type=Path)
    parser.add_argument("--accel", choices=("kvm", "tcg"), default="tcg")
    parser.add_argument("--boots", type=int, default=3)
    arguments = parser.parse_args()
    rows = crash_rows(arguments.build.resolve(), arguments.accel, arguments.boots)
    for entry in rows:
        print(entry["figure"], entry["value"], entry["unit"], entry.get("ratio"), entry["note"])
    return 1 if any(entry["role"] == "failed" for entry in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
