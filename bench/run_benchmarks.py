#!/usr/bin/env python3
"""`./umka bench`: every benchmark suite, one table, every figure beside a same-run baseline.

1. Host (Google Benchmark): every *_bench executable under build/bench, with
   --benchmark_repetitions (interleaved at random, so drift hits case and baseline alike).
   Each case names its baseline with state.SetLabel("baseline=<case>") (bench/report.py).
2. Nucleus size: the arch-independent .text (bench/nucleus_size.py).
3. Guest (the accelerator of test/qemu/accel_probe.py, or --accel): N boots at smp 1 and 4,
   timed on the host's wall clock from QEMU start to the first `umka> ` prompt, against
   Debian's Linux booted in the same QEMU to its /init (bench/linux_baseline.py); in the
   same boots the guest's own timeline (entry -> console ready), `mods`, `measure caps`
   and `measure switch` (smp 1) and `measure ring` (smp 4).
4. Swap pause: bench/evolution/evolution_bench.py's measure() against the empty
   stop-the-world of the same boot.
5. Block I/O: the virtio-blk driver's reads (`blk bench`: 4 KiB random at depth 1 and 32,
   64 MiB sequential) against Debian's Linux with its virtio_blk reading the same offsets
   of the same image with O_DIRECT (bench/linux_block_reader.c, `dd iflag=direct`;
   bench/block_bench.py).
6. Files: the VFS and the ext2 module (`fbench`: 10,000 files created, stat'ed and listed
   with ls -l, 64 MiB written with fsync and read cold) against Debian's Linux with its ext2
   doing the same system calls on a fresh copy of the same image (bench/linux_files_bench.c,
   bench/files_bench.py).

7. Crash recovery: a fault in the serial driver to its fresh instance serving, against a
   live swap of the same driver in the same boot, median and maximum over 100 crashes
   (bench/crash_bench.py).

8. Memory domains: a ring round trip and a direct call into the nucleus with PKS domains on
   and off (`param containment.domains=off`), the same workload in both
   (bench/domain_bench.py).

The table goes to stdout, the same rows and header as JSON to build/bench/report.json
(--output); bench/render_performance.py turns that JSON into docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "test" / "qemu"))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "evolution"))
import accel_probe  # noqa: E402
import block_bench  # noqa: E402
import crash_bench  # noqa: E402
import domain_bench  # noqa: E402
import files_bench  # noqa: E402
import linux_baseline  # noqa: E402
import nucleus_size  # noqa: E402
import report  # noqa: E402
import timed_qemu  # noqa: E402
import umka_qemu  # noqa: E402

PROMPT = b"umka> "
MEMORY = "512M"


# --- header ----------------------------------------------------------------------------------

def machine() -> dict:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return {"cpu": cpu, "cores": os.cpu_count(), "load_average": load,
            "virtual": accel_probe.host_is_virtual()}


def commit() -> str:
    result = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                            capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def choose_accelerator(build: Path, requested: str | None) -> tuple[str, str]:
    """The accelerator and why. Only a KVM the probe booted with is used unasked; no path
    uses -cpu host (accel_probe.CPU_MODELS)."""
    if requested:
        return requested, "chosen with --accel"
    try:
        verdict = accel_probe.probe(build)
    except accel_probe.ProbeError as error:
        return "tcg", f"the accelerator probe failed: {error}"
    if verdict.accelerator == "kvm":
        return "kvm", "the accelerator probe booted with KVM and found it no slower than TCG"
    return "tcg", f"KVM unusable here: {verdict.reason}"


# --- host suites -----------------------------------------------------------------------------

def host_executables(build: Path) -> list[Path]:
    return sorted(path for path in (build / "bench").rglob("*_bench")
                  if path.is_file() and os.access(path, os.X_OK))


def host_rows(build: Path, repetitions: int, min_time: float) -> list[dict]:
    executables = host_executables(build)
    if not executables:
        return [report.failed_row("host", "(all suites)", f"no *_bench executable under {build}/bench")]
    rows = []
    for executable in executables:
        suite = executable.name
        print(f"bench: {suite} ({repetitions} repetitions)", file=sys.stderr, flush=True)
        result = subprocess.run([str(executable), "--benchmark_format=json",
                                 f"--benchmark_repetitions={repetitions}",
                                 f"--benchmark_min_time={min_time}",
                                 "--benchmark_enable_random_interleaving=true"],
                                capture_output=True, text=True)
        try:
            document = json.loads(result.stdout)
        except json.JSONDecodeError:
            reason = (result.stderr.strip().splitlines() or [f"status {result.returncode}"])[-1]
            rows.append(report.failed_row(suite, "(suite)", f"no JSON output: {reason}"))
            continue
        rows += report.google_benchmark_rows(suite, document)
    return rows


# --- nucleus size ----------------------------------------------------------------------------

def size_rows(build: Path) -> tuple[list[dict], dict | None]:
    elf = build / "nucleus.elf"
    try:
        measured = nucleus_size.measure(elf, ROOT, objects=nucleus_size.default_objects(elf))
    except nucleus_size.SizeError as error:
        return [report.failed_row("size", "arch-independent .text", str(error))], None
    text = measured["arch_independent"][".text"] / 1024
    goal = measured["goal_text_bytes"] / 1024
    entry = report.row("size", "nucleus arch-independent .text", [text], "KiB")
    report.alone(entry, f"goal {goal:.0f} KiB ({text / goal:.2f}x the goal)")
    return [entry], measured


# --- guest -----------------------------------------------------------------------------------

def umka_command(build: Path, accel: str, smp: int) -> list[str]:
    arguments = umka_qemu.parse_arguments(["--build", str(build), "--accel", accel, "--smp", str(smp),
                                           "--memory", MEMORY])
    with tempfile.TemporaryDirectory() as scratch:  # only a UEFI boot writes here
        return umka_qemu.qemu_command(arguments, Path(scratch)) + ["-serial", "stdio"]


def section(output: str, command: str) -> str:
    parts = output.split(f"umka> {command}\n", 1)
    return parts[1].split("umka>", 1)[0] if len(parts) == 2 else ""


def umka_boots(build: Path, accel: str, smp: int, boots: int, commands: list[str]) -> list[dict]:
    """`boots` boots, each: wall seconds to the first prompt, the timeline steps and the
    console output of `commands`."""
    runs = []
    for number in range(boots):
        print(f"bench: UmkaOS boot {number + 1}/{boots}, smp {smp}", file=sys.stderr, flush=True)
        run = timed_qemu.timed_run(umka_command(build, accel, smp), PROMPT,
                                   ["timeline"] + commands + ["poweroff"], PROMPT, timeout=600)
        output = run.output.replace("\r", "")
        if run.status != 0 or run.seconds_to_marker is None:
            raise RuntimeError(f"boot failed (status {run.status}): {output.strip()[-300:]}")
        steps = {name.strip(): (int(since), int(step)) for since, step, name in
                 re.findall(r"^\s+(\d+) us\s+(\d+) us\s+(.+)$", section(output, "timeline"), re.MULTILINE)}
        runs.append({"wall": run.seconds_to_marker, "steps": steps, "output": output})
    return runs


def linux_boots(accel: str, smp: int, boots: int, work: Path) -> tuple[str, list[float]]:
    kernel = linux_baseline.find_kernel()
    command = linux_baseline.qemu_command(kernel, linux_baseline.write_initramfs(work), accel, smp, MEMORY)
    seconds = []
    for number in range(boots):
        print(f"bench: Linux boot {number + 1}/{boots}, smp {smp}", file=sys.stderr, flush=True)
        seconds.append(linux_baseline.boot(command, timeout=600))
    return kernel.name.removeprefix("vmlinuz-"), seconds


def parsed(runs: list[dict], command: str, pattern: str) -> list[tuple[float, ...]]:
    """The groups of `pattern` in each boot's output of `command`; raises when one is missing."""
    values = []
    for run in runs:
        text = section(run["output"], command)
        match = re.search(pattern, text, re.DOTALL)
        if match is None:
            raise RuntimeError(f"'{command}' printed no figures: {text.strip()[:200]!r}")
        values.append(tuple(float(group) for group in match.groups()))
    return values


# `measure ring`'s round trip against a direct call, and against one cache line moved to
# the provider's CPU and back (the floor of any cross-CPU call).
RING_VERSUS_DIRECT = r"ring round trip \(.*?\): (\d+) ns per call.*?direct call through the service slot: (\d+) ns"
RING_VERSUS_LINE = r"ring round trip \(.*?\): (\d+) ns per call.*?one cache line to cpu \d+ and back: (\d+) ns"


def pair_rows(suite: str, runs: list[dict], command: str, pattern: str, figure: str,
              baseline_figure: str, unit: str = "ns") -> list[dict]:
    try:
        pairs = parsed(runs, command, pattern)
    except RuntimeError as error:
        return [report.failed_row(suite, figure, str(error))]
    baseline = report.row(suite, baseline_figure, [pair[1] for pair in pairs], unit)
    measured = report.row(suite, figure, [pair[0] for pair in pairs], unit)
    return [report.divide(measured, baseline), baseline]


def module_rows(suite: str, runs: list[dict]) -> list[dict]:
    pattern = r"^(\w+)\s+\d+\s+\d+ \w+\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+verified\s+loaded(?:, (?:no )?memory domain)?$"
    loads: dict[str, list[tuple[int, int, int]]] = {}
    for run in runs:
        for name, _text, file_kib, load_us, verify_us in re.findall(pattern, section(run["output"], "mods"),
                                                                    re.MULTILINE):
            loads.setdefault(name, []).append((int(file_kib), int(load_us), int(verify_us)))
    rows = []
    for name, samples in loads.items():
        entry = report.row(suite, f"load module {name} ({samples[0][0]} KiB file)",
                           [load for _, load, _ in samples], "us")
        verify = statistics.median(verify for _, _, verify in samples)
        report.alone(entry, f"of which signature check {verify:.0f} us "
                            f"({verify / max(entry['value'], 1):.0%})")
        rows.append(entry)
    return rows


def guest_rows(build: Path, accel: str, boots: int, work: Path) -> tuple[list[dict], dict]:
    suite = f"guest {accel}"
    rows: list[dict] = []
    details: dict = {"boot_steps": {}}
    runs = {}
    single = None
    commands = {1: ["mods", "measure caps", "measure switch"], 4: ["measure ring"]}
    for smp in (1, 4):
        try:
            runs[smp] = umka_boots(build, accel, smp, boots, commands[smp])
        except RuntimeError as error:
            rows.append(report.failed_row(suite, f"UmkaOS boot, smp {smp}", str(error)))
            continue
        wall = report.row(suite, f"UmkaOS: QEMU start -> umka> prompt, smp {smp}",
                          [run["wall"] * 1e9 for run in runs[smp]], "ns")
        try:
            version, seconds = linux_boots(accel, smp, boots, work)
            linux = report.row(suite, f"Linux {version}: QEMU start -> /init, smp {smp}",
                               [value * 1e9 for value in seconds], "ns")
            rows += [report.divide(wall, linux), linux]
        except linux_baseline.Unavailable as error:
            rows.append(report.alone(wall, "no Linux baseline on this host"))
            rows.append(report.unavailable_row(suite, f"Linux: QEMU start -> /init, smp {smp}", str(error)))
        ready = [run["steps"].get("console ready", (None, None))[0] for run in runs[smp]]
        if None in ready:
            rows.append(report.failed_row(suite, f"timeline entry -> console ready, smp {smp}",
                                          "the timeline has no 'console ready' step"))
            continue
        names = list(runs[smp][0]["steps"])
        medians = {name: statistics.median(run["steps"].get(name, (0, 0))[1] for run in runs[smp])
                   for name in names}
        details["boot_steps"][str(smp)] = medians
        slowest = max(medians, key=medians.get)
        timeline = report.row(suite, f"timeline entry -> console ready, smp {smp}",
                              [value * 1000 for value in ready], "ns",
                              f"slowest step {slowest} ({medians[slowest] / 1000:.1f} ms)")
        if smp == 1:
            rows.append(report.alone(timeline, "the guest's own clock; the smp 4 row's baseline"))
            single = timeline
        elif single is not None:
            rows.append(report.divide(timeline, single))
        else:
            rows.append(report.alone(timeline, "no smp 1 boot to compare with"))
    if 1 in runs:
        rows += module_rows(suite, runs[1])
        rows += pair_rows(suite, runs[1], "measure caps",
                          r"capability lookup \(.*?\): ([\d.]+) ns; baseline call \(.*?\) ([\d.]+) ns",
                          "capability lookup (Directory.provider), smp 1", "Log.level call, smp 1")
        rows += pair_rows(suite, runs[1], "measure switch",
                          r"context switch: (\d+) ns per switch.*?yield without a switch: (\d+) ns",
                          "context switch (yield + pick + switch), smp 1", "yield with no switch, smp 1")
    if 4 in runs:
        rows += pair_rows(suite, runs[4], "measure ring", RING_VERSUS_DIRECT,
                          "ring round trip across CPUs (CharDevice.info), smp 4",
                          "direct call through the service slot, smp 4")
        rows += pair_rows(suite, runs[4], "measure ring", RING_VERSUS_LINE,
                          "ring round trip across CPUs, against the line's round trip, smp 4",
                          "one cache line to the provider's CPU and back, smp 4")
    return rows, details


# --- swap pause ------------------------------------------------------------------------------

def summary_row(suite: str, figure: str, triple: tuple[float, float, float], n: int) -> dict:
    entry = report.row(suite, figure, [triple[1]], "us")
    entry["spread"] = {"min": triple[0], "median": triple[1], "max": triple[2], "n": n}
    return entry


def add_note(entry: dict, text: str) -> None:
    entry["note"] = f"{entry['note']}; {text}" if entry.get("note") else text


def swap_rows(build: Path, accel: str, cycles: int, smps: list[int]) -> list[dict]:
    """The pause of each service at each CPU count, and under TCG also at smp 1 with
    -icount (guest time = instructions executed, 1 ns each): the pause's work, free of
    the emulator's costs for code that runs once per swap."""
    import evolution_bench  # the guest's evolution bundle comes with test/qemu/boot_test.py
    suite = f"swap {accel}"
    rows = []
    configurations = [(smp, False) for smp in smps] + ([(1, True)] if accel == "tcg" else [])
    for smp, icount in configurations:
        for service in ("scheduler", "kernel_heap"):
            print(f"bench: {2 * cycles} swaps of {service}, smp {smp}{', icount' if icount else ''}",
                  file=sys.stderr, flush=True)
            where = f"{service}, smp {smp}" + (", icount (1 ns = 1 instruction)" if icount else "")
            try:
                result = evolution_bench.measure(build, accel, smp, service, cycles, icount=icount)
            except Exception as error:  # noqa: BLE001 - any failure becomes the row's reason
                rows.append(report.failed_row(suite, f"swap pause, {where}", str(error).strip()[:300]))
                continue
            swaps = result["swaps"]
            empty = result["empty_stop_the_world_us"]
            pause = summary_row(suite, f"swap pause, {where}", result["pause"], swaps)
            if empty:
                baseline = report.row(suite, f"empty stop-the-world, {where} boot", empty, "us")
                rows += [report.divide(pause, baseline), baseline]
            else:
                rows.append(report.alone(pause, "the boot printed no empty stop-the-world"))
            for key, label in (("gathering", "gathering the CPUs"), ("state_transfer", "state transfer in the pause"),
                               ("whole_swap", "whole swap, prepare -> resume")):
                if result.get(key):
                    rows.append(report.alone(summary_row(suite, f"{label}, {where}", result[key], swaps)))
            if result.get("prebuilt_current"):
                current, pauses = result["prebuilt_current"]
                add_note(pause, f"the pre-built state was current in {current} of {pauses} pauses")
            if swaps != result["attempted"]:
                add_note(pause, f"only {swaps} of {result['attempted']} swaps completed")
    return rows


# --- main ------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, type=Path)
    parser.add_argument("--accel", choices=("kvm", "tcg"),
                        help="default: kvm where the accelerator probe found it usable, else tcg")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 2 boots, 2 repetitions, 6 swaps at smp 1 and 4")
    parser.add_argument("--boots", type=int, help="boots per configuration (default 5; --quick 2)")
    parser.add_argument("--repetitions", type=int, help="Google Benchmark repetitions (default 5; --quick 2)")
    parser.add_argument("--swap-cycles", type=int, help="A -> B -> A cycles per swap row (default 10; --quick 3)")
    parser.add_argument("--skip", action="append", default=[],
                        choices=("host", "size", "guest", "swap", "block", "files", "crash", "domains"),
                        help="leave a part out (repeatable); the report says so")
    parser.add_argument("--output", type=Path, help="JSON report (default BUILD/bench/report.json)")
    arguments = parser.parse_args()
    build = arguments.build.resolve()
    quick = arguments.quick
    boots = arguments.boots or (2 if quick else 5)
    repetitions = arguments.repetitions or (2 if quick else 5)
    cycles = arguments.swap_cycles or (3 if quick else 10)
    swap_smps = [1, 4] if quick else [1, 2, 4]
    accel, reason = choose_accelerator(build, arguments.accel)
    started = datetime.datetime.now(datetime.timezone.utc)
    header = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "commit": commit(),
              "mode": "quick" if quick else "full", "machine": machine(),
              "qemu": accel_probe.qemu_version(), "accelerator": accel, "accelerator_reason": reason,
              "boots": boots, "repetitions": repetitions, "swaps_per_row": 2 * cycles,
              "skipped": sorted(set(arguments.skip))}
    rows: list[dict] = []
    details: dict = {}
    if "size" not in arguments.skip:
        size, details["nucleus_size"] = size_rows(build)
        rows += size
    if "host" not in arguments.skip:
        rows += host_rows(build, repetitions, 0.05 if quick else 0.1)
    if "guest" not in arguments.skip:
        with tempfile.TemporaryDirectory(prefix="umka-bench-") as work:
            guest, details["guest"] = guest_rows(build, accel, boots, Path(work))
        rows += guest
    if "swap" not in arguments.skip:
        rows += swap_rows(build, accel, cycles, swap_smps)
    if "block" not in arguments.skip:
        with tempfile.TemporaryDirectory(prefix="umka-bench-") as work:
            rows += block_bench.block_rows(build, accel, min(boots, 3), Path(work))
    if "files" not in arguments.skip:
        with tempfile.TemporaryDirectory(prefix="umka-bench-") as work:
            rows += files_bench.files_rows(build, accel, min(boots, 2), Path(work))
    if "crash" not in arguments.skip:
        rows += crash_bench.crash_rows(build, accel, 1)
    if "domains" not in arguments.skip:
        rows += domain_bench.domain_rows(build, accel, min(boots, 3))
    finished = datetime.datetime.now(datetime.timezone.utc)
    header["minutes"] = round((finished - started).total_seconds() / 60, 1)
    document = {"schema": report.SCHEMA, "header": header, "rows": rows, "details": details}
    output = arguments.output or build / "bench" / "report.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=1, default=str) + "\n")
    print(report.console_table(document))
    print(f"\n{len(rows)} rows in {header['minutes']} min; JSON: {output}")
    return 1 if any(entry["role"] in ("failed", "missing") for entry in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
