#!/usr/bin/env python3
"""Live evolution in the guest: the stop-the-world pause, the state-transfer share of it and
the whole swap (prepare -> resume), min/median/max over >= 100 swaps, at --smp 1, 2 and 4.

Each configuration boots the evolution test bundle (test/qemu/boot_test.py's: the default
modules plus a second file of each, the `-v2` build when there is one) and runs
`evolve cycle <service> <B> <A> N` (2N swaps through evolution.EvolutionControl) while a
workload runs: `load start cpu 8` for the scheduler, `load start alloc 4` for the heap.
The guest reports guest cycles converted with its calibrated clock. The same boot also
runs `rendezvous` three times: the hold window of an empty stop-the-world (released minus
gathered), the baseline of the pause (its median is printed). `./umka bench` calls measure()
for its own table.

    python3 bench/evolution/evolution_bench.py --build build [--accel tcg] [--cycles 50]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "test" / "qemu"))
import boot_test  # noqa: E402

WORKLOADS = {"scheduler": "load start cpu 8", "kernel_heap": "load start alloc 4"}


def spread(section: str, row: str) -> tuple[float, float, float]:
    match = re.search(rf"^\s+{row}\s+min (\S+) us\s+median (\S+) us\s+max (\S+) us$", section, re.MULTILINE)
    if match is None:
        raise MeasureError(f"no '{row}' statistics in:\n{section}")
    return float(match.group(1)), float(match.group(2)), float(match.group(3))


class MeasureError(Exception):
    """The guest did not produce the figures; the message says what was missing."""


def measure(build: Path, accel: str, smp: int, service: str, cycles: int,
            rendezvous: int = 3) -> dict:
    """One boot: `rendezvous` empty stop-the-worlds, then 2 x `cycles` swaps of `service`.
    Returns min/median/max (us) of the pause, the state transfer and the whole swap, and
    the empty stop-the-world hold windows (us) of the same boot."""
    command = f"evolve --allow-downgrade cycle {service} {service}-v2.umod {service}.umod {cycles}"
    script = [WORKLOADS[service], "wait 200"] + ["rendezvous"] * rendezvous + [command, "load stop", "poweroff"]
    with contextlib.redirect_stdout(io.StringIO()):  # the guest's console: parsed, not shown
        status, output = boot_test.boot_evolution(build, accel, script, smp=smp, timeout=3000)
    if status != 0:
        tail = " / ".join(line.strip() for line in output.strip().splitlines()[-4:])
        raise MeasureError(f"the guest did not power off (smp {smp}, {service}, status {status}): {tail}")
    section = boot_test.command_output(output, command)
    done = re.search(r"evolve cycle: (\d+) of (\d+) swaps", section)
    held = re.findall(r"stop-the-world: \d+ CPUs held, gathered in (\d+) ns, released after (\d+) ns", output)
    if done is None:
        raise MeasureError(f"no 'evolve cycle' summary in:\n{section}")
    result = {"smp": smp, "service": service, "swaps": int(done.group(1)), "attempted": int(done.group(2)),
              "empty_stop_the_world_us": [(int(released) - int(gathered)) / 1000 for gathered, released in held]}
    for key, row in (("pause", "pause"), ("state_transfer", "state transfer"), ("whole_swap", "whole swap")):
        result[key] = spread(section, row)
    # Gathering the CPUs before the pause, where `evolve cycle` reports it.
    result["gathering"] = spread(section, "gathering") if re.search(r"^\s+gathering\s+min", section, re.MULTILINE) else None
    return result


def table_row(result: dict) -> str:
    empty = result["empty_stop_the_world_us"]
    baseline = f"{sorted(empty)[len(empty) // 2]:.1f}" if empty else "-"
    cells = [" / ".join(f"{value:g}" for value in result[key]) for key in ("pause", "state_transfer", "whole_swap")]
    return (f"| {result['smp']} | {result['service']} | {result['swaps']}/{result['attempted']} | "
            + " | ".join(cells) + f" | {baseline} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, required=True)
    parser.add_argument("--accel", default="tcg", choices=["tcg", "kvm"])
    parser.add_argument("--cycles", type=int, default=50, help="A -> B -> A cycles (2 swaps each)")
    parser.add_argument("--smp", type=int, action="append", help="CPU counts (default 1, 2, 4)")
    parser.add_argument("--service", action="append", choices=sorted(WORKLOADS))
    arguments = parser.parse_args()
    print(f"guest ({arguments.accel}), {2 * arguments.cycles} swaps per row; times in us, min / median / max")
    print("| CPUs | service | swaps | pause | state transfer | whole swap | empty stop-the-world |")
    print("|---|---|---|---|---|---|---|")
    for smp in arguments.smp or [1, 2, 4]:
        for service in arguments.service or ["scheduler", "kernel_heap"]:
            try:
                print(table_row(measure(arguments.build, arguments.accel, smp, service, arguments.cycles)), flush=True)
            except MeasureError as error:
                raise SystemExit(f"evolution bench: {error}") from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
