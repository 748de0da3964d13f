#!/usr/bin/env python3
"""The boot baseline: Debian's own Linux kernel booted in the same QEMU as UmkaOS (same
-machine, -accel, -cpu, -smp, -m, serial console) to an initramfs whose /init (busybox)
prints a marker and powers off. `./umka bench` times QEMU start -> marker for both.

The kernel is the newest /boot/vmlinuz-* (Debian's linux-image-amd64, which ./umka bench
installs); the initramfs is written here in cpio "newc" form: busybox-static as /bin/busybox,
/dev/console (so /init has a console before anything mounts devtmpfs) and /init.

    python3 bench/linux_baseline.py --accel tcg --smp 4 --boots 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "test" / "qemu"))
sys.path.insert(0, str(HERE))
import accel_probe  # noqa: E402
import timed_qemu  # noqa: E402

MARKER = "UMKA-BENCH-LINUX-INIT"
BUSYBOX = Path("/bin/busybox")
INIT = f"""#!/bin/busybox sh
/bin/busybox echo {MARKER}
/bin/busybox poweroff -f
"""
# The kernel's own messages go to the serial console too, as they would on a serial boot;
# `quiet` keeps them to what a default Debian boot prints.
KERNEL_COMMAND_LINE = "console=ttyS0 quiet panic=-1"


class Unavailable(Exception):
    """The baseline cannot run on this host; the message says why."""


def find_kernel(boot: Path = Path("/boot")) -> Path:
    kernels = sorted(boot.glob("vmlinuz-*"))
    if not kernels:
        raise Unavailable(f"no {boot}/vmlinuz-* (apt-get install linux-image-amd64 failed or was "
                          "not run)")
    return kernels[-1]


def cpio_entry(name: str, mode: int, data: bytes = b"", inode: int = 1,
               rdev: tuple[int, int] = (0, 0)) -> bytes:
    """One cpio "newc" record (the format the kernel unpacks into its initramfs)."""
    name_bytes = name.encode() + b"\0"
    fields = [inode, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_bytes), 0]
    header = b"070701" + b"".join(f"{value:08x}".encode() for value in fields)
    record = header + name_bytes
    record += b"\0" * (-len(record) % 4)
    record += data
    return record + b"\0" * (-len(record) % 4)


def initramfs(busybox: bytes, init: str = INIT, files: tuple[tuple[str, bytes], ...] = ()) -> bytes:
    """bin/busybox, dev/console and /init (`init`), plus `files` (path under lib/, contents):
    later benchmarks (bench/block_bench.py) add the kernel modules their devices need."""
    entries = [
        cpio_entry("bin", 0o040755, inode=1),
        cpio_entry("dev", 0o040755, inode=2),
        cpio_entry("dev/console", 0o020600, inode=3, rdev=(5, 1)),
        cpio_entry("bin/busybox", 0o100755, busybox, inode=4),
        cpio_entry("init", 0o100755, init.encode(), inode=5),
    ]
    if files:
        entries.append(cpio_entry("lib", 0o040755, inode=6))
    for number, (name, data) in enumerate(files):
        entries.append(cpio_entry(f"lib/{name}", 0o100644, data, inode=7 + number))
    entries.append(cpio_entry("TRAILER!!!", 0, inode=0))
    archive = b"".join(entries)
    return archive + b"\0" * (-len(archive) % 512)


def write_initramfs(work: Path, init: str = INIT, files: tuple[tuple[str, bytes], ...] = (),
                    name: str = "linux-baseline-initramfs.cpio") -> Path:
    if not BUSYBOX.is_file():
        raise Unavailable(f"no {BUSYBOX} (apt-get install busybox-static)")
    path = work / name
    path.write_bytes(initramfs(BUSYBOX.read_bytes(), init, files))
    return path


def kernel_modules(kernel: Path, names: list[str]) -> tuple[tuple[str, bytes], ...]:
    """The kernel's own modules `names` (file names without .ko, in load order) from
    /lib/modules/<its version>; Unavailable when one is missing."""
    version = kernel.name.removeprefix("vmlinuz-")
    found = []
    for name in names:
        matches = sorted(Path("/lib/modules", version, "kernel").rglob(f"{name}.ko"))
        if not matches:
            raise Unavailable(f"no {name}.ko for Linux {version} under /lib/modules")
        found.append((f"{name}.ko", matches[0].read_bytes()))
    return tuple(found)


def qemu_command(kernel: Path, initrd: Path, accel: str, smp: int, memory: str,
                 devices: list[str] | None = None) -> list[str]:
    # The same machine as test/qemu/umka_qemu.py's qemu_command: -machine pc, the probe's CPU
    # model for the accelerator (never -cpu host), -smp, -m, no display, serial on stdio;
    # `devices`: the same device options the UmkaOS run gets (umka_qemu.disk_options).
    return ["qemu-system-x86_64", "-machine", "pc", "-accel", accel,
            "-cpu", accel_probe.CPU_MODELS[accel], "-smp", str(smp), "-m", memory,
            "-display", "none", "-no-reboot", "-kernel", str(kernel), "-initrd", str(initrd),
            "-append", KERNEL_COMMAND_LINE, "-serial", "stdio", *(devices or [])]


def boot(command: list[str], timeout: float = 300.0) -> float:
    """Seconds from QEMU start to the /init marker; raises Unavailable when it never shows."""
    run = timed_qemu.timed_run(command, MARKER.encode(), timeout=timeout)
    if run.seconds_to_marker is None:
        tail = run.output.strip().splitlines()[-3:]
        raise Unavailable(f"Linux did not reach /init (QEMU status {run.status}): "
                          + " / ".join(tail))
    return run.seconds_to_marker


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accel", choices=("kvm", "tcg"), default="tcg")
    parser.add_argument("--smp", type=int, default=1)
    parser.add_argument("--memory", default="512M")
    parser.add_argument("--boots", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp"))
    arguments = parser.parse_args()
    try:
        kernel = find_kernel()
        command = qemu_command(kernel, write_initramfs(arguments.work), arguments.accel,
                               arguments.smp, arguments.memory)
        seconds = [boot(command) for _ in range(arguments.boots)]
    except Unavailable as error:
        print(f"linux baseline: {error}")
        return 1
    print(f"{kernel.name}, {arguments.accel}, smp {arguments.smp}: QEMU start -> /init median "
          f"{statistics.median(seconds):.3f} s (min {min(seconds):.3f}, max {max(seconds):.3f}, "
          f"{len(seconds)} boots)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
