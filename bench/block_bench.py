#!/usr/bin/env python3
"""Block I/O in the guest: UmkaOS's virtio-blk driver (through the console's `blk bench`)
against Debian's Linux with its own virtio_blk driver, in the same QEMU with the same disk
options on the same 64 MiB image.

The same work on both sides:
- 4 KiB random reads, one at a time (queue depth 1), 4096 of them;
- 4 KiB random reads, 32 in flight, 32768 of them;
- 64 MiB sequential read in 1 MiB (Linux: busybox dd bs=1M iflag=direct, one request at a
  time of 1 MiB; UmkaOS: 256 KiB requests, 4 in flight, since its console buffer is 256 KiB).
The random offsets are the same on both sides: request k reads the 4 KiB place given by the
k-th word of the documented fill-pattern stream seeded with 1 (modules/blk/README.md).
Linux reads them with bench/linux_block_reader.c (O_DIRECT; pread at depth 1, native AIO
io_submit at depth 32, as fio's libaio engine), built statically on the host, since busybox
has neither random offsets nor asynchronous I/O.
Each figure is nanoseconds per request (per MiB for the last), on the guest's own clock:
Linux's /proc/uptime (10 ms resolution: every run is made to last longer than a second
under TCG) and UmkaOS's kernel_services.Clock. UmkaOS's interrupt-to-handler latency (the
MSI-X interrupt to the start of the driver's IrqHandler, averaged by the nucleus over the
run, `irqs`) stands alone: Linux shows none to user space.

    python3 bench/block_bench.py --build build --accel tcg --boots 2
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "test" / "qemu"))
sys.path.insert(0, str(HERE))
import linux_baseline  # noqa: E402
import report  # noqa: E402
import timed_qemu  # noqa: E402
import umka_qemu  # noqa: E402

IMAGE_BYTES = 64 << 20
MEMORY = "512M"
PROMPT = b"umka> "
MARKER = "UMKA-BENCH-BLOCK-DONE"
# Linux's virtio stack, in load order (modules.dep).
LINUX_MODULES = ["virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev",
                 "virtio_pci", "virtio_blk"]

READER_SOURCE = HERE / "linux_block_reader.c"
# (figure, unit, UmkaOS command, requests or MiB it moves, Linux shell that does the same,
#  what Linux runs)
WORKLOADS = [
    ("4 KiB random reads, queue depth 1", "ns", "blk bench vda randread 8 4096 1", 4096,
     "/lib/block_reader /dev/vda 4096 4096 1", "pread O_DIRECT"),
    ("4 KiB random reads, queue depth 32", "ns", "blk bench vda randread 8 32768 32", 32768,
     "/lib/block_reader /dev/vda 4096 32768 32", "io_submit O_DIRECT"),
    ("64 MiB sequential read, per MiB", "ns", "blk bench vda read 512 256 4", 64,
     "/bin/busybox dd if=/dev/vda of=/dev/null bs=1M count=64 iflag=direct 2>/dev/null",
     "dd iflag=direct"),
]


def build_reader(work: Path) -> bytes:
    """bench/linux_block_reader.c, linked statically for the baseline's initramfs."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise linux_baseline.Unavailable("no C compiler for bench/linux_block_reader.c")
    output = work / "block_reader"
    built = subprocess.run([compiler, "-static", "-O2", "-o", str(output), str(READER_SOURCE)],
                           capture_output=True, text=True)
    if built.returncode != 0:
        raise linux_baseline.Unavailable(f"cc -static linux_block_reader.c failed: {built.stderr.strip()[-300:]}")
    return output.read_bytes()


def linux_init() -> str:
    lines = ["#!/bin/busybox sh",
             "/bin/busybox mkdir -p /proc /sys",
             "/bin/busybox mount -t proc proc /proc",
             "/bin/busybox mount -t devtmpfs dev /dev",
             *[f"/bin/busybox insmod /lib/{name}.ko" for name in LINUX_MODULES],
             "n=0; while [ ! -b /dev/vda ] && [ $n -lt 200 ]; do /bin/busybox sleep 0.05; n=$((n + 1)); done",
             "/bin/busybox chmod 755 /lib/block_reader",
             # Warm-up: the same first read both sides do before timing.
             "/bin/busybox dd if=/dev/vda of=/dev/null bs=4k count=16 iflag=direct 2>/dev/null"]
    for index, (_figure, _unit, _command, _amount, shell, _tool) in enumerate(WORKLOADS):
        # A failed run prints no line for its index, and the run is reported as unfinished.
        lines += ["read start rest < /proc/uptime", f"if {shell}; then",
                  "read end rest < /proc/uptime",
                  f"/bin/busybox echo UMKA-BENCH-BLOCK {index} $start $end", "fi"]
    lines += [f"/bin/busybox echo {MARKER}", "/bin/busybox poweroff -f"]
    return "\n".join(lines) + "\n"


def linux_runs(accel: str, image: Path, boots: int, work: Path) -> tuple[str, list[list[float]]]:
    """Per workload, the seconds of each boot."""
    kernel = linux_baseline.find_kernel()
    files = linux_baseline.kernel_modules(kernel, LINUX_MODULES) + (("block_reader", build_reader(work)),)
    initrd = linux_baseline.write_initramfs(work, linux_init(), files, "linux-block-initramfs.cpio")
    command = linux_baseline.qemu_command(kernel, initrd, accel, 1, MEMORY,
                                          umka_qemu.disk_options(0, image))
    seconds: list[list[float]] = [[] for _ in WORKLOADS]
    for number in range(boots):
        print(f"bench: Linux block boot {number + 1}/{boots}", file=sys.stderr, flush=True)
        run = timed_qemu.timed_run(command, MARKER.encode(), timeout=900)
        times = {int(index): float(end) - float(start) for index, start, end in
                 re.findall(r"UMKA-BENCH-BLOCK (\d+) ([\d.]+) ([\d.]+)", run.output)}
        if run.seconds_to_marker is None or len(times) != len(WORKLOADS):
            tail = " / ".join(run.output.strip().splitlines()[-3:])
            raise linux_baseline.Unavailable(f"the Linux block run did not finish: {tail}")
        for index in range(len(WORKLOADS)):
            seconds[index].append(times[index])
    return kernel.name.removeprefix("vmlinuz-"), seconds


def umka_runs(build: Path, accel: str, image: Path, boots: int) -> tuple[list[list[float]], list[float]]:
    """Per workload, the seconds of each boot; and each boot's average interrupt-to-handler
    latency of the disk's vector, in nanoseconds."""
    arguments = umka_qemu.parse_arguments(["--build", str(build), "--accel", accel, "--memory", MEMORY,
                                           "--disk", str(image)])
    with tempfile.TemporaryDirectory() as scratch:
        command = umka_qemu.qemu_command(arguments, Path(scratch)) + ["-serial", "stdio"]
    commands = ["blk bench vda read 8 16 1"] + [workload[2] for workload in WORKLOADS] + ["irqs", "poweroff"]
    seconds: list[list[float]] = [[] for _ in WORKLOADS]
    latencies: list[float] = []
    for number in range(boots):
        print(f"bench: UmkaOS block boot {number + 1}/{boots}", file=sys.stderr, flush=True)
        run = timed_qemu.timed_run(command, PROMPT, commands, PROMPT, timeout=900)
        output = run.output.replace("\r", "")
        for index, workload in enumerate(WORKLOADS):
            section = output.split(f"umka> {workload[2]}\n", 1)
            match = re.search(r"requests: (\d+) us,", section[1]) if len(section) == 2 else None
            if match is None:
                raise RuntimeError(f"'{workload[2]}' printed no time: {output.strip()[-300:]}")
            seconds[index].append(int(match.group(1)) / 1e6)
        irqs = output.split("umka> irqs\n", 1)
        latency = re.search(r"^\s*\d+\s+\d+ virtio_blk\.umod\s+0\s+\d+\s+\d+ (?:yes|no)\s+(\d+)/\d+$",
                            irqs[1] if len(irqs) == 2 else "", re.MULTILINE)
        if latency is None:
            raise RuntimeError(f"'irqs' lists no virtio_blk vector: {output.strip()[-300:]}")
        latencies.append(int(latency.group(1)) * 1000.0)
    return seconds, latencies


def block_rows(build: Path, accel: str, boots: int, work: Path) -> list[dict]:
    suite = f"guest {accel}"
    image = work / "block-bench.img"
    image.write_bytes(os.urandom(IMAGE_BYTES))
    rows: list[dict] = []
    try:
        umka, latencies = umka_runs(build, accel, image, boots)
    except RuntimeError as error:
        return [report.failed_row(suite, "UmkaOS block I/O", str(error))]
    rows.append(report.alone(report.row(suite, "UmkaOS: MSI-X interrupt -> virtio-blk IrqHandler start, average",
                                        latencies, "ns"),
                             "the nucleus's own count (irqs, microsecond resolution); Linux shows none "
                             "to user space"))
    try:
        version, linux = linux_runs(accel, image, boots, work)
    except linux_baseline.Unavailable as error:
        version, linux = None, None
        reason = str(error)
    for index, (figure, unit, _command, amount, _shell, tool) in enumerate(WORKLOADS):
        measured = report.row(suite, f"UmkaOS virtio-blk: {figure}", [value * 1e9 / amount for value in umka[index]],
                              unit)
        if linux is None:
            rows.append(report.alone(measured, "no Linux baseline on this host"))
            rows.append(report.unavailable_row(suite, f"Linux virtio_blk: {figure}", reason))
            continue
        baseline = report.row(suite, f"Linux {version} virtio_blk ({tool}): {figure}",
                              [value * 1e9 / amount for value in linux[index]], unit)
        rows += [report.divide(measured, baseline), baseline]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, type=Path)
    parser.add_argument("--accel", choices=("kvm", "tcg"), default="tcg")
    parser.add_argument("--boots", type=int, default=2)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="umka-block-bench-") as work:
        rows = block_rows(arguments.build.resolve(), arguments.accel, arguments.boots, Path(work))
    document = {"schema": report.SCHEMA, "header": {}, "rows": rows, "details": {}}
    print(report.markdown_table(document["rows"]))
    return 1 if any(entry["role"] in ("failed", "missing") for entry in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
