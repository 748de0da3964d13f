#!/usr/bin/env python3
"""`./umka bench`: host micro-benchmarks and in-guest boot measurements.

1. Host (Google Benchmark): every bench executable in the build, each reporting its
   cases beside the baseline case measured in the same run, as ratios.
2. Guest: boots the nucleus N times (KVM where the accelerator probe, test/qemu/accel_probe.py,
   found it works and is faster than TCG; else TCG) at --smp 1 and --smp 4,
   reads the guest's own timeline (cycle-counter timestamps converted with the
   calibrated clock), and reports the median nucleus-entry -> prompt time, the slowest
   step, and the SMP boot as a ratio to the single-CPU boot measured in the same run.
3. Size: the nucleus image's .text, .rodata, .data and .bss per source folder, with the
   arch-independent .text against its goal (bench/nucleus_size.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNNER = HERE.parent / "test" / "qemu" / "umka_qemu.py"
sys.path.insert(0, str(RUNNER.parent))
sys.path.insert(0, str(HERE))
import accel_probe  # noqa: E402
import nucleus_size  # noqa: E402

# Host benchmark executables and, for each, the case every other case is divided by.
HOST_BENCHMARKS = {
    "bench/frame_allocator_bench": "BM_BaselineFreeListPushPop",
    "bench/kabi/kabi_call_bench": "virtual_call",
    "bench/module/module_bench": "BM_BaselineArrayIndex",
    "bench/ring/ring_bench": "BM_BoostThroughput",
}


def run_host_benchmarks(build: Path) -> None:
    executables = dict(HOST_BENCHMARKS)
    for extra in sorted((build / "bench").rglob("*_bench")):
        relative = str(extra.relative_to(build))
        if os.access(extra, os.X_OK) and extra.is_file() and relative not in executables:
            executables[relative] = None
    for relative, baseline in executables.items():
        executable = build / relative
        if not executable.is_file():
            print(f"host: {relative} not built; skipped")
            continue
        result = subprocess.run([str(executable), "--benchmark_format=json", "--benchmark_min_time=0.2"],
                                capture_output=True, text=True, check=True)
        cases = json.loads(result.stdout)["benchmarks"]
        times = {case["name"]: case["real_time"] for case in cases if case.get("run_type") != "aggregate"}
        unit = cases[0]["time_unit"] if cases else "ns"
        base = times.get(baseline) if baseline else None
        print(f"\nhost: {relative}")
        for name, value in times.items():
            ratio = f"  {value / base:6.2f}x of {baseline}" if base else ""
            print(f"  {name:48s} {value:10.2f} {unit}{ratio}")


def boot_once(build: Path, accel: str, smp: int, extra: list[str] | None = None) -> dict[str, int]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as script:
        script.write("\n".join((extra or []) + ["timeline", "poweroff"]) + "\n")
        script.flush()
        result = subprocess.run([sys.executable, str(RUNNER), "--build", str(build), "--accel", accel,
                                 "--smp", str(smp), "--script", script.name, "--timeout", "240"],
                                capture_output=True, text=True, errors="replace")
    if result.returncode != 0:
        raise SystemExit(f"bench: boot failed ({accel}, smp {smp}):\n{result.stdout[-2000:]}")
    boot_once.last_output = result.stdout.replace("\r", "")
    table = boot_once.last_output.split("umka> timeline", 1)[1]
    steps = {}
    for since_entry, step_time, name in re.findall(r"^\s+(\d+) us\s+(\d+) us\s+(.+)$", table, re.MULTILINE):
        steps[name.strip()] = (int(since_entry), int(step_time))
    return steps


def report_modules(build: Path, accel: str) -> None:
    boot_once(build, accel, 1, ["mods", "measure caps"])
    output = boot_once.last_output
    print(f"\nguest ({accel}): modules of the default bundle")
    pattern = (r"^(\w+)\s+\d+\s+\d+ \w+\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+verified\s+loaded$")
    for name, text_kib, file_kib, load_us, verify_us in re.findall(pattern, output, re.MULTILINE):
        per_kib = int(load_us) / max(int(file_kib), 1)
        print(f"  {name:18s} {file_kib:>4s} KiB file, {text_kib:>3s} KiB text: load {load_us} us "
              f"({per_kib:.0f} us/KiB), of which signature {verify_us} us")
    match = re.search(r"capability lookup \(.*", output)
    if match:
        print(f"  {match.group(0)}")


def report_boots(build: Path, accel: str, smp: int, boots: int) -> float:
    runs = [boot_once(build, accel, smp) for _ in range(boots)]
    to_prompt = [run["console ready"][0] for run in runs]
    median = statistics.median(to_prompt)
    step_names = list(runs[0])
    step_medians = {name: statistics.median(run[name][1] for run in runs) for name in step_names}
    slowest = max(step_medians, key=step_medians.get)
    print(f"\nguest ({accel}, smp {smp}, {boots} boots): entry -> prompt median {median:.0f} us "
          f"(min {min(to_prompt)}, max {max(to_prompt)})")
    print(f"  slowest step: {slowest} ({step_medians[slowest]:.0f} us median)")
    for name in step_names:
        print(f"    {name:24s} {step_medians[name]:10.0f} us")
    return median


def report_nucleus_size(build: Path) -> None:
    elf = build / "nucleus.elf"
    try:
        report = nucleus_size.measure(elf, HERE.parent, objects=nucleus_size.default_objects(elf))
    except nucleus_size.SizeError as error:
        print(f"\nsize: {error}")
        return
    print("\n" + nucleus_size.render(report))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, type=Path)
    parser.add_argument("--boots", type=int, default=5, help="boots per configuration (default 5)")
    parser.add_argument("--accel", choices=("kvm", "tcg"),
                        help="default: kvm where the accelerator probe found it usable, else tcg")
    parser.add_argument("--skip-host", action="store_true")
    arguments = parser.parse_args()
    # The same choice as `./umka run`, so the figures say which accelerator they measure.
    accel = arguments.accel or accel_probe.choose(arguments.build)
    report_nucleus_size(arguments.build)
    if not arguments.skip_host:
        run_host_benchmarks(arguments.build)
    single = report_boots(arguments.build, accel, 1, arguments.boots)
    quad = report_boots(arguments.build, accel, 4, arguments.boots)
    report_modules(arguments.build, accel)
    print(f"\nguest ({accel}): smp 4 boot is {quad / single:.2f}x the smp 1 boot (baseline, same run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
