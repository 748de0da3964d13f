#!/usr/bin/env python3
"""Crash recovery in the guest (docs/crash-containment.md): from a fault in the serial
driver's code inside a ring request to its fresh instance bound and serving, against a live
swap of the same driver to the same file in the same boot (`evolve serial_console
serial_console.umod`, its whole-swap time). The restart is that swap plus finding the fault,
unwinding it and answering the request with EIO, so the ratio is what containment adds.

Each boot carries the fault-injection fixture and a restart policy that never fails the
driver (`param containment.crashes=16`, `param containment.window_ms=1`: 16 crashes within
1 ms, which restarts of milliseconds never reach). It swaps the driver once to warm the
paths both share, swaps it SWAPS more times (the baseline), then takes CRASHES crashes,
cycling through #PF, #UD, #DE and #GP. Figures are the nucleus's own (`restarted ... in N
us`, `evolve`'s total); median and maximum over every crash.

The disk driver's rows: boots on q35 with a 4 MiB virtio-blk disk take CRASHES crashes of
virtio_blk's interrupt handler, each while `blk sha256` has requests in flight, so each
restart takes the disk over (reset, the requests in flight failed with EIO, the queue set
up again). Against the serial driver's restart at the same smp in the same run: the ratio
is what the takeover adds.

    python3 bench/crash_bench.py --build build --accel tcg --boots 1
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
SWAPS = 10
CRASHES = 100
POLICY = "param containment.crashes=16\nparam containment.window_ms=1\n"
FAULTS = ("null", "opcode", "divide", "noncanonical")
# The first swap warms the paths a swap and a restart share (TCG translates code on first
# use); the others are the baseline. Each inject faults at the console's next write (its
# own answer), and the next command is read only once the fresh instance serves.
SCRIPT = (["evolve serial_console serial_console.umod"] * (1 + SWAPS)
          + [f"inject serial_console {FAULTS[index % len(FAULTS)]}" for index in range(CRASHES)]
          + ["poweroff"])
RESTART = re.compile(r"containment: 'serial_console' restarted from serial_console\.umod in (\d+) us")
DISK_SCRIPT = (["blk sha256 vda 0 256"]
               + ["inject virtio_blk opcode", "blk sha256 vda 0 256"] * CRASHES + ["poweroff"])
DISK_RESTART = re.compile(r"containment: 'virtio_blk' restarted from virtio_blk\.umod in (\d+) us")
TAKEOVER = re.compile(r"virtio-blk 00:0[0-9a-f]\.0: taken over after a crash: reset, (\d+) request")
SWAP_TOTAL = re.compile(r"^\s+total\s+(\d+) us$", re.MULTILINE)


def one_boot(build: Path, accel: str, smp: int, bundle: Path) -> tuple[list[int], list[int]]:
    arguments = umka_qemu.parse_arguments(["--build", str(build), "--accel", accel, "--smp", str(smp),
                                           "--memory", MEMORY, "--bundle", str(bundle)])
    with tempfile.TemporaryDirectory() as scratch:
        command = umka_qemu.qemu_command(arguments, Path(scratch)) + ["-serial", "stdio"]
    run = timed_qemu.timed_run(command, PROMPT, SCRIPT, PROMPT, timeout=600)
    output = run.output.replace("\r", "")
    restarts = [int(value) for value in RESTART.findall(output)]
    swaps = SWAP_TOTAL.findall(output)
    if run.status != 0 or len(restarts) != CRASHES or len(swaps) != 1 + SWAPS:
        raise RuntimeError(f"boot failed (status {run.status}, {len(restarts)} restarts of {CRASHES}, "
                           f"{len(swaps)} swaps of {1 + SWAPS}): {output.strip()[-300:]}")
    return restarts, [int(total) for total in swaps[1:]]


def disk_boot(build: Path, accel: str, smp: int, bundle: Path, disk: Path) -> list[int]:
    arguments = umka_qemu.parse_arguments(["--build", str(build), "--accel", accel, "--smp", str(smp),
                                           "--memory", MEMORY, "--bundle", str(bundle), "--machine", "q35",
                                           "--disk", str(disk)])
    with tempfile.TemporaryDirectory() as scratch:
        command = umka_qemu.qemu_command(arguments, Path(scratch)) + ["-serial", "stdio"]
    run = timed_qemu.timed_run(command, PROMPT, DISK_SCRIPT, PROMPT, timeout=600)
    output = run.output.replace("\r", "")
    restarts = [int(value) for value in DISK_RESTART.findall(output)]
    taken = [int(value) for value in TAKEOVER.findall(output)]
    # At smp 4 the nucleus's log line of a restart can be garbled by the console's output on
    # another CPU (docs/crash-containment.md): a few may be missing; the takeovers may not.
    if (run.status != 0 or not CRASHES - 5 <= len(restarts) <= CRASHES or len(taken) != CRASHES
            or min(taken) == 0):
        raise RuntimeError(f"boot failed (status {run.status}, {len(restarts)} restarts and {len(taken)} "
                           f"takeovers with I/O in flight of {CRASHES}): {output.strip()[-300:]}")
    return restarts


def disk_rows(build: Path, accel: str, smps: tuple[int, ...], serial: dict[int, dict]) -> list[dict]:
    suite = f"crash {accel}"
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as directory:
        bundle = Path(directory) / "bundle.cpio"
        bundle.write_bytes(crash_scenario.crash_bundle(boot_test, build, POLICY))
        disk = Path(directory) / "vda.img"
        disk.write_bytes(bytes(range(256)) * (4 << 12))
        for smp in smps:
            figure = f"disk driver with I/O in flight: fault -> disk taken over and serving, smp {smp}"
            if smp not in serial:
                rows.append(report.failed_row(suite, figure, "no serial driver baseline at this smp"))
                continue
            try:
                print(f"bench: disk driver crash recovery, smp {smp}", file=sys.stderr, flush=True)
                restarts = disk_boot(build, accel, smp, bundle, disk)
            except (RuntimeError, boot_test.Failure) as error:
                rows.append(report.failed_row(suite, figure, str(error)))
                continue
            measured = report.row(suite, figure, restarts, "us", f"max {max(restarts)} us over {len(restarts)}")
            rows.append(report.divide(measured, serial[smp]))
    return rows


def crash_rows(build: Path, accel: str, boots: int, smps: tuple[int, ...] = (1, 4)) -> list[dict]:
    suite = f"crash {accel}"
    rows: list[dict] = []
    serial: dict[int, dict] = {}
    with tempfile.NamedTemporaryFile(suffix=".cpio") as handle:
        handle.write(crash_scenario.crash_bundle(boot_test, build, POLICY))
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
                    times, totals = one_boot(build, accel, smp, Path(handle.name))
                    restarts += times
                    swaps += totals
            except (RuntimeError, boot_test.Failure) as error:
                rows.append(report.failed_row(suite, figure, str(error)))
                continue
            baseline = report.row(suite, baseline_figure, swaps, "us")
            measured = report.row(suite, figure, restarts, "us", f"max {max(restarts)} us over {len(restarts)}")
            rows += [report.divide(measured, baseline), baseline]
            serial[smp] = measured
    return rows + disk_rows(build, accel, smps, serial)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, type=Path)
    parser.add_argument("--accel", choices=("kvm", "tcg"), default="tcg")
    parser.add_argument("--boots", type=int, default=1)
    arguments = parser.parse_args()
    rows = crash_rows(arguments.build.resolve(), arguments.accel, arguments.boots)
    for entry in rows:
        print(entry["figure"], entry["value"], entry["unit"], entry.get("ratio"), entry["note"])
    return 1 if any(entry["role"] == "failed" for entry in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
