#!/usr/bin/env python3
"""Live evolution in the guest: the stop-the-world pause, the state-transfer share of it,
gathering the CPUs (the rendezvous IPIs until the last CPU arrived, before the pause) and
the whole swap (prepare -> resume), min/median/max over the swaps, at --smp 1, 2 and 4.

Each configuration boots the evolution test bundle (test/qemu/boot_test.py's: the default
modules plus a second file of each, the `-v2` build when there is one) and runs
`evolve cycle <service> <B> <A> N` (2N swaps through evolution.EvolutionControl) while a
workload runs: `load start cpu 8` for the scheduler, `load start alloc 4` for the heap.
The guest reports guest cycles converted with its calibrated clock. The same boot also
runs `rendezvous` {RENDEZVOUS_RUNS} times: the hold window of an empty stop-the-world (released
minus gathered), whose median is the baseline of the pause (the ratio column). The last
column counts the pauses that found the state built before them current (only pointers
committed; the others imported the old state again inside the pause).

    python3 bench/evolution/evolution_bench.py --build build [--accel tcg] [--cycles 50]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "test" / "qemu"))
import boot_test  # noqa: E402

WORKLOADS = {"scheduler": "load start cpu 8", "kernel_heap": "load start alloc 4"}
RENDEZVOUS_RUNS = 5
__doc__ = __doc__.replace("{RENDEZVOUS_RUNS}", str(RENDEZVOUS_RUNS))


def spread(section: str, row: str) -> tuple[str, str, str]:
    match = re.search(rf"^\s+{row}\s+min (\S+) us\s+median (\S+) us\s+max (\S+) us$", section, re.MULTILINE)
    if match is None:
        raise SystemExit(f"evolution bench: no '{row}' statistics in:\n{section}")
    return match.group(1), match.group(2), match.group(3)


def empty_stop_the_world(output: str) -> tuple[float, list[float]] | None:
    """The median hold window (us) of the boot's `rendezvous` runs, and every window."""
    held = re.findall(r"stop-the-world: \d+ CPUs held, gathered in (\d+) ns, released after (\d+) ns", output)
    windows = sorted((int(released) - int(gathered)) / 1000 for gathered, released in held)
    return (statistics.median(windows), windows) if windows else None


def measure(build: Path, accel: str, smp: int, service: str, cycles: int) -> None:
    command = f"evolve --allow-downgrade cycle {service} {service}-v2.umod {service}.umod {cycles}"
    script = [WORKLOADS[service], "wait 200", *["rendezvous"] * RENDEZVOUS_RUNS, command, "load stop", "poweroff"]
    with contextlib.redirect_stdout(io.StringIO()):  # the guest's console: parsed, not shown
        status, output = boot_test.boot_evolution(build, accel, script, smp=smp, timeout=3000)
    if status != 0:
        raise SystemExit(f"evolution bench: the guest did not power off (smp {smp}, {service})")
    section = boot_test.command_output(output, command)
    done = re.search(r"evolve cycle: (\d+) of (\d+) swaps", section)
    current = re.search(r"the pre-built state was current in (\d+) of (\d+) pauses", section)
    if done is None or current is None:
        raise SystemExit(f"evolution bench: no swap count in:\n{section}")
    pause, transfer, gathering, whole = (spread(section, row)
                                         for row in ("pause", "state transfer", "gathering", "whole swap"))
    empty = empty_stop_the_world(output)
    baseline = f"{empty[0]:.1f}" if empty else "-"
    ratio = f"{float(pause[1]) / empty[0]:.2f}" if empty and empty[0] > 0 else "-"
    print(f"| {smp} | {service} | {done.group(1)}/{done.group(2)} | {' / '.join(pause)} | "
          f"{' / '.join(transfer)} | {' / '.join(gathering)} | {' / '.join(whole)} | {baseline} | {ratio} | "
          f"{current.group(1)}/{current.group(2)} |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, required=True)
    parser.add_argument("--accel", default="tcg", choices=["tcg", "kvm"])
    parser.add_argument("--cycles", type=int, default=50, help="A -> B -> A cycles (2 swaps each)")
    parser.add_argument("--smp", type=int, action="append", help="CPU counts (default 1, 2, 4)")
    parser.add_argument("--service", action="append", choices=sorted(WORKLOADS))
    arguments = parser.parse_args()
    print(f"guest ({arguments.accel}), {2 * arguments.cycles} swaps per row; times in us, min / median / max")
    print("| CPUs | service | swaps | pause | state transfer | gathering | whole swap | "
          f"empty stop-the-world (median of {RENDEZVOUS_RUNS}) | pause median / empty | pre-built state current |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for smp in arguments.smp or [1, 2, 4]:
        for service in arguments.service or ["scheduler", "kernel_heap"]:
            measure(arguments.build, arguments.accel, smp, service, arguments.cycles)
    return 0


if __name__ == "__main__":
    sys.exit(main())
