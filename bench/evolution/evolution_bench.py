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
committed; the others imported the old state again inside the pause). `./umka bench`
calls measure() for its own table.

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


def spread(section: str, row: str) -> tuple[float, float, float]:
    match = re.search(rf"^\s+{row}\s+min (\S+) us\s+median (\S+) us\s+max (\S+) us$", section, re.MULTILINE)
    if match is None:
        raise MeasureError(f"no '{row}' statistics in:\n{section}")
    return float(match.group(1)), float(match.group(2)), float(match.group(3))


class MeasureError(Exception):
    """The guest did not produce the figures; the message says what was missing."""


def measure(build: Path, accel: str, smp: int, service: str, cycles: int,
            rendezvous: int = RENDEZVOUS_RUNS, icount: bool = False) -> dict:
    """One boot: `rendezvous` empty stop-the-worlds, then 2 x `cycles` swaps of `service`;
    with `icount`, under TCG's -icount (guest time = instructions executed, 1 ns each).
    Returns min/median/max (us) of the pause, the state transfer, the gathering and the whole
    swap, the empty stop-the-world hold windows (us) of the same boot, and how many pauses
    found the pre-built state current."""
    command = f"evolve --allow-downgrade cycle {service} {service}-v2.umod {service}.umod {cycles}"
    script = [WORKLOADS[service], "wait 200"] + ["rendezvous"] * rendezvous + [command, "load stop", "poweroff"]
    with contextlib.redirect_stdout(io.StringIO()):  # the guest's console: parsed, not shown
        status, output = boot_test.boot_evolution(build, accel, script, smp=smp, timeout=3000,
                                                  options=("--icount",) if icount else ())
    if status != 0:
        tail = " / ".join(line.strip() for line in output.strip().splitlines()[-4:])
        raise MeasureError(f"the guest did not power off (smp {smp}, {service}, status {status}): {tail}")
    section = boot_test.command_output(output, command)
    done = re.search(r"evolve cycle: (\d+) of (\d+) swaps", section)
    held = re.findall(r"stop-the-world: \d+ CPUs held, gathered in (\d+) ns, released after (\d+) ns", output)
    current = re.search(r"the pre-built state was current in (\d+) of (\d+) pauses", section)
    if done is None or current is None:
        raise MeasureError(f"no 'evolve cycle' summary in:\n{section}")
    result = {"smp": smp, "service": service, "swaps": int(done.group(1)), "attempted": int(done.group(2)),
              "empty_stop_the_world_us": [(int(released) - int(gathered)) / 1000 for gathered, released in held],
              "prebuilt_current": (int(current.group(1)), int(current.group(2)))}
    for key, row in (("pause", "pause"), ("state_transfer", "state transfer"), ("gathering", "gathering"),
                     ("whole_swap", "whole swap")):
        result[key] = spread(section, row)
    return result


def table_row(result: dict) -> str:
    empty = result["empty_stop_the_world_us"]
    baseline = statistics.median(empty) if empty else None
    cells = [" / ".join(f"{value:g}" for value in result[key])
             for key in ("pause", "state_transfer", "gathering", "whole_swap")]
    cells.append(f"{baseline:.1f}" if baseline else "-")
    cells.append(f"{result['pause'][1] / baseline:.2f}" if baseline else "-")
    current, pauses = result["prebuilt_current"]
    cells.append(f"{current}/{pauses}")
    return f"| {result['smp']} | {result['service']} | {result['swaps']}/{result['attempted']} | " + " | ".join(cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, required=True)
    parser.add_argument("--accel", default="tcg", choices=["tcg", "kvm"])
    parser.add_argument("--cycles", type=int, default=50, help="A -> B -> A cycles (2 swaps each)")
    parser.add_argument("--smp", type=int, action="append", help="CPU counts (default 1, 2, 4)")
    parser.add_argument("--service", action="append", choices=sorted(WORKLOADS))
    parser.add_argument("--icount", action="store_true",
                        help="TCG with -icount: guest time = instructions executed (1 ns each)")
    arguments = parser.parse_args()
    print(f"guest ({arguments.accel}), {2 * arguments.cycles} swaps per row; times in us, min / median / max")
    print("| CPUs | service | swaps | pause | state transfer | gathering | whole swap | "
          f"empty stop-the-world (median of {RENDEZVOUS_RUNS}) | pause median / empty | pre-built state current |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for smp in arguments.smp or [1, 2, 4]:
        for service in arguments.service or ["scheduler", "kernel_heap"]:
            try:
                print(table_row(measure(arguments.build, arguments.accel, smp, service, arguments.cycles,
                                        icount=arguments.icount)), flush=True)
            except MeasureError as error:
                raise SystemExit(f"evolution bench: {error}") from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
