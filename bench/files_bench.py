#!/usr/bin/env python3
"""Files in the guest: UmkaOS's VFS and ext2 module (the console's `fbench`) against Debian's
Linux with its own ext2 (the ext4 driver), in the same QEMU with the same disk options, each
boot on a fresh copy of the same ext2 image (mke2fs -t ext2 -b 4096, 128 MiB, 16384 inodes).

The same work on both sides (modules/files/file_bench.cpp, bench/linux_files_bench.c):
create 10,000 files of 100 bytes in one directory, stat each, `ls -l` the directory
(getdents and an lstat per entry), write a 64 MiB file in 64 KiB writes and fsync it, read it
back (Linux after dropping its page cache; UmkaOS's ext2 keeps a 2 MiB block cache). Each
figure is the step's time per file, per entry or per MiB, on the guest's own clock.

    python3 bench/files_bench.py --build build --accel tcg --boots 2
"""

from __future__ import annotations

import argparse
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

MEMORY = "512M"
PROMPT = b"umka> "
MARKER = "UMKA-BENCH-FILES-DONE"
FILES = 10_000
MEBIBYTES = 64
COMMAND = f"fbench /mnt/bench {FILES} {MEBIBYTES}"
LINUX_MODULES = ["virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev",
                 "virtio_pci", "virtio_blk", "crc16", "mbcache", "jbd2", "crc32c_generic", "ext4"]
BENCH_SOURCE = HERE / "linux_files_bench.c"
LINE = re.compile(r"fbench \S+: create (\d+) files (\d+) us, stat (\d+) us, ls -l (\d+) us \((\d+) entries\), "
                  r"write (\d+) MiB (\d+) us, read (\d+) us")
# (figure, unit, index of the step's microseconds in LINE's groups, what one unit of work is)
FIGURES = [
    ("create a 100-byte file (10,000 in one directory), per file", "ns", 2, FILES),
    ("stat a file by path, per file", "ns", 3, FILES),
    ("ls -l of a 10,000-entry directory, per entry", "ns", 4, FILES),
    ("write 64 MiB and fsync, per MiB", "ns", 7, MEBIBYTES),
    ("read 64 MiB (cold), per MiB", "ns", 8, MEBIBYTES),
]


def make_image(path: Path) -> None:
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-b", "4096", "-N", "16384", str(path), "128M"],
                   check=True)


def parse(output: str, side: str) -> list[float]:
    match = LINE.search(output)
    if match is None:
        raise RuntimeError(f"{side} printed no fbench line: {output.strip()[-300:]}")
    if int(match[1]) != FILES or int(match[5]) != FILES or int(match[6]) != MEBIBYTES:
        raise RuntimeError(f"{side} did other work than asked: {match[0]}")
    return [int(match[index]) / 1e6 for _, _, index, _ in FIGURES]


def build_bench(work: Path) -> bytes:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise linux_baseline.Unavailable("no C compiler for bench/linux_files_bench.c")
    output = work / "files_bench"
    built = subprocess.run([compiler, "-static", "-O2", "-o", str(output), str(BENCH_SOURCE)],
                           capture_output=True, text=True)
    if built.returncode != 0:
        raise linux_baseline.Unavailable(f"cc -static linux_files_bench.c failed: {built.stderr.strip()[-300:]}")
    return output.read_bytes()


def linux_init() -> str:
    lines = ["#!/bin/busybox sh",
             "/bin/busybox mkdir -p /proc /sys /mnt",
             "/bin/busybox mount -t proc proc /proc",
             "/bin/busybox mount -t devtmpfs dev /dev",
             *[f"/bin/busybox insmod /lib/{name}.ko" for name in LINUX_MODULES],
             "n=0; while [ ! -b /dev/vda ] && [ $n -lt 200 ]; do /bin/busybox sleep 0.05; n=$((n + 1)); done",
             "/bin/busybox mount -t ext2 /dev/vda /mnt",
             "/bin/busybox chmod 755 /lib/files_bench",
             f"/lib/files_bench /mnt/bench {FILES} {MEBIBYTES}",
             "/bin/busybox umount /mnt",
             f"/bin/busybox echo {MARKER}", "/bin/busybox poweroff -f"]
    return "\n".join(lines) + "\n"


def linux_runs(accel: str, boots: int, work: Path) -> tuple[str, list[list[float]]]:
    kernel = linux_baseline.find_kernel()
    files = linux_baseline.kernel_modules(kernel, LINUX_MODULES) + (("files_bench", build_bench(work)),)
    initrd = linux_baseline.write_initramfs(work, linux_init(), files, "linux-files-initramfs.cpio")
    seconds: list[list[float]] = [[] for _ in FIGURES]
    for number in range(boots):
        print(f"bench: Linux files boot {number + 1}/{boots}", file=sys.stderr, flush=True)
        image = work / "linux-files.img"
        make_image(image)
        command = linux_baseline.qemu_command(kernel, initrd, accel, 1, MEMORY, umka_qemu.disk_options(0, image))
        run = timed_qemu.timed_run(command, MARKER.encode(), timeout=1800)
        try:
            values = parse(run.output, "Linux")
        except RuntimeError as error:
            raise linux_baseline.Unavailable(str(error)) from error
        for index, value in enumerate(values):
            seconds[index].append(value)
    return kernel.name.removeprefix("vmlinuz-"), seconds


def umka_runs(build: Path, accel: str, boots: int, work: Path) -> list[list[float]]:
    seconds: list[list[float]] = [[] for _ in FIGURES]
    for number in range(boots):
        print(f"bench: UmkaOS files boot {number + 1}/{boots}", file=sys.stderr, flush=True)
        image = work / "umka-files.img"
        make_image(image)
        arguments = umka_qemu.parse_arguments(["--build", str(build), "--accel", accel, "--memory", MEMORY,
                                               "--disk", str(image)])
        with tempfile.TemporaryDirectory() as scratch:
            command = umka_qemu.qemu_command(arguments, Path(scratch)) + ["-serial", "stdio"]
        # The first file command mounts vda on /mnt (the root's /etc/fstab).
        run = timed_qemu.timed_run(command, PROMPT, ["mount", COMMAND, "poweroff"], PROMPT, timeout=1800)
        for index, value in enumerate(parse(run.output.replace("\r", ""), "UmkaOS")):
            seconds[index].append(value)
    return seconds


def files_rows(build: Path, accel: str, boots: int, work: Path) -> list[dict]:
    suite = f"guest {accel}"
    if shutil.which("mke2fs") is None:
        return [report.failed_row(suite, "UmkaOS files", "no mke2fs (apt-get install e2fsprogs)")]
    try:
        umka = umka_runs(build, accel, boots, work)
    except RuntimeError as error:
        return [report.failed_row(suite, "UmkaOS files", str(error))]
    try:
        version, linux = linux_runs(accel, boots, work)
    except linux_baseline.Unavailable as error:
        version, linux, reason = None, None, str(error)
    rows: list[dict] = []
    for index, (figure, unit, _group, amount) in enumerate(FIGURES):
        measured = report.row(suite, f"UmkaOS ext2: {figure}", [value * 1e9 / amount for value in umka[index]], unit)
        if linux is None:
            rows.append(report.alone(measured, "no Linux baseline on this host"))
            rows.append(report.unavailable_row(suite, f"Linux ext2: {figure}", reason))
            continue
        baseline = report.row(suite, f"Linux {version} ext2: {figure}",
                              [value * 1e9 / amount for value in linux[index]], unit)
        rows += [report.divide(measured, baseline), baseline]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, type=Path)
    parser.add_argument("--accel", choices=("kvm", "tcg"), default="tcg")
    parser.add_argument("--boots", type=int, default=2)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="umka-files-bench-") as work:
        rows = files_rows(arguments.build.resolve(), arguments.accel, arguments.boots, Path(work))
    print(report.markdown_table(rows))
    return 1 if any(entry["role"] in ("failed", "missing") for entry in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
