#!/usr/bin/env python3
"""Boots UmkaOS in QEMU: `./umka run` and the QEMU tests both go through here.

Without --script the serial console is attached to this terminal. With --script, each
line of the file is typed into the console after the `umka> ` prompt appears, and the
run ends when the guest powers off: exit status 0 only if QEMU exited cleanly within
--timeout. Everything the guest prints goes to stdout.

A script line `@when TEXT @send BYTES` does not wait for a prompt: once TEXT has appeared
in the output since the previous line was typed, BYTES are sent as they are (both take
Python escapes, e.g. `@when heap exercise 1000000\n @send \x03` is Ctrl-C while that
command runs).
"""

from __future__ import annotations

import argparse
import codecs
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accel_probe  # noqa: E402
import esp_image  # noqa: E402

PROMPT = b"umka> "
FATAL_MARKERS = (b"FATAL EXCEPTION", b"PANIC: ")
# The UEFI loader reports a refused boot and powers off cleanly; that is still a failure.
LOADER_FAILURE = b"umka-uefi: boot stopped"
EXIT_TIMEOUT = 124


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="umka run", description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, type=Path, help="build directory")
    parser.add_argument("--smp", type=int, default=1, help="number of CPUs (default 1)")
    parser.add_argument("--uefi", action="store_true", help="boot through OVMF and BOOTX64.EFI")
    parser.add_argument("--accel", choices=("kvm", "tcg"),
                        help="default: kvm where the accelerator probe (accel_probe.py) found it "
                             "works and is faster than TCG, else tcg")
    parser.add_argument("--bundle", type=Path, help="boot bundle (default: the build's bundle.cpio)")
    parser.add_argument("--script", type=Path, help="console lines to type, one per prompt")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds (with --script)")
    parser.add_argument("--memory", default="512M", help="guest RAM (default 512M)")
    parser.add_argument("--cpu", default="",
                        help="QEMU CPU model instead of the accelerator's (e.g. qemu64: no PKS, so no "
                             "memory domains)")
    parser.add_argument("--image", default="nucleus", help="nucleus image name in the build (default nucleus)")
    parser.add_argument("--cmdline", default="", help="nucleus command line")
    parser.add_argument("--machine", choices=("pc", "q35"), default="pc",
                        help="QEMU machine: pc (i440FX, legacy PCI) or q35 (ICH9, PCIe with "
                             "ECAM described by the ACPI MCFG table); default pc")
    parser.add_argument("--disk", action="append", default=[], type=Path,
                        help="a raw image attached as a modern virtio-blk PCI device "
                             "(disable-legacy=on); FILE:ro attaches it read-only; repeatable, in order")
    parser.add_argument("--device", action="append", default=[],
                        help="another QEMU device, as -device takes it (e.g. edu); repeatable")
    parser.add_argument("--icount", action="store_true",
                        help="TCG with guest time = instructions executed (1 ns each): figures "
                             "count work, repeat exactly and ignore host load; CPUs take turns")
    parser.add_argument("--no-acpi", action="store_true",
                        help="firmware without ACPI tables (exercises the nucleus's fallbacks)")
    parser.add_argument("--wait-for", action="append", default=[],
                        help="with no script: text to wait for before ending the run (repeatable)")
    parser.add_argument("--interleaved-byte", default="",
                        help="a byte a guest workload writes between the console's (e.g. '~' of "
                             "`load start serial`): ignored when looking for the prompt")
    arguments = parser.parse_args(argv)
    if arguments.smp < 1:
        parser.error("--smp must be at least 1")
    if arguments.accel == "kvm":
        # An explicit choice is honoured without probing (the probe itself boots this way),
        # but only where there is a KVM device to open at all.
        access = accel_probe.device_access()
        if not access.accessible:
            parser.error(f"--accel kvm: {access.reason}")
    return arguments


def disk_options(index: int, disk: Path) -> list[str]:
    """QEMU options attaching raw image `disk` (FILE:ro: read-only, the device then offers
    VIRTIO_BLK_F_RO) as the `index`-th modern virtio-blk PCI device. The Linux baseline
    (bench/linux_baseline.py) gets the same options."""
    read_only = str(disk).endswith(":ro")
    if read_only:
        disk = Path(str(disk)[:-3])
    if not disk.is_file():
        raise SystemExit(f"umka run: --disk {disk}: ENOENT: no such file")
    return ["-drive", f"file={disk},if=none,id=disk{index},format=raw" + (",readonly=on" if read_only else ""),
            "-device", f"virtio-blk-pci,drive=disk{index},disable-legacy=on"]


def qemu_command(arguments: argparse.Namespace, work: Path) -> list[str]:
    build = arguments.build
    bundle = arguments.bundle or build / "bundle.cpio"
    if not bundle.is_file():
        raise SystemExit(f"umka run: bundle not found: {bundle}")
    accel = arguments.accel or accel_probe.choose(build, uefi=arguments.uefi)
    command = [
        "qemu-system-x86_64",
        "-machine", f"{arguments.machine},acpi=off" if arguments.no_acpi else arguments.machine,
        "-accel", accel,
        # why these models: accel_probe.KVM_CPU_MODEL
        "-cpu", arguments.cpu or accel_probe.CPU_MODELS[accel],
        "-smp", str(arguments.smp),
        "-m", arguments.memory,
        "-display", "none",
        "-no-reboot",
    ]
    if arguments.icount:
        command += ["-icount", "shift=0,sleep=off"]
    for index, disk in enumerate(arguments.disk):
        command += disk_options(index, disk)
    for device in arguments.device:
        command += ["-device", device]
    if arguments.uefi:
        image = esp_image.make_esp_image(
            work / "esp.img",
            build / "arch/x86_64/uefi-loader/BOOTX64.EFI",
            build / f"{arguments.image}.elf",
            bundle=bundle,
            cmdline=arguments.cmdline or None)
        command += esp_image.ovmf_qemu_args(work) + esp_image.esp_drive_args(image)
    else:
        kernel = build / f"{arguments.image}.bin"
        if not kernel.is_file():
            raise SystemExit(f"umka run: nucleus image not found: {kernel}")
        command += ["-kernel", str(kernel), "-initrd", str(bundle)]
        if arguments.cmdline:
            command += ["-append", arguments.cmdline]
    return command


DIRECTIVE = "@when "
SEND = " @send "
WAIT = "@wait "


def parse_directive(line: str) -> tuple[bytes, bytes | None] | None:
    """(text to wait for, bytes to send) of a `@when TEXT @send BYTES` line, (text, None) of a
    `@wait TEXT` line, else None."""
    decode = lambda value: codecs.escape_decode(value.encode())[0]  # noqa: E731
    if line.startswith(WAIT):
        text = line[len(WAIT):]
        if not text:
            raise SystemExit(f"umka run: script line {line!r}: expected '@wait TEXT'")
        return decode(text), None
    if not line.startswith(DIRECTIVE):
        return None
    text, separator, payload = line[len(DIRECTIVE):].partition(SEND)
    if not separator or not text or not payload:
        raise SystemExit(f"umka run: script line {line!r}: expected '@when TEXT @send BYTES'")
    return decode(text), decode(payload)


def run_interactive(command: list[str]) -> int:
    # mon:stdio multiplexes the QEMU monitor (Ctrl-A c) and the serial console.
    return subprocess.call(command + ["-serial", "mon:stdio"])


def run_scripted(command: list[str], lines: list[str], wait_for: list[bytes], timeout: float,
                 interleaved: bytes = b"") -> int:
    process = subprocess.Popen(command + ["-serial", "stdio"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = bytearray()
    # Since the last line was typed, without `interleaved` bytes: `tail` keeps what a prompt
    # split across two chunks needs, `prompted` says a prompt showed. The prompt need not end
    # the output: the nucleus may log a line right after it (a driver's restart), and the
    # console is waiting for input all the same.
    tail = b""
    prompted = False
    sent_at = 0  # where the output stood when the last line was typed
    marker_at = -1
    pending = list(lines)
    waiting = list(wait_for)
    deadline = time.monotonic() + timeout
    out = sys.stdout.buffer
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                out.write(f"\numka run: timed out after {timeout:.0f} s\n".encode())
                return EXIT_TIMEOUT
            ready, _, _ = select.select([process.stdout], [], [], min(remaining, 0.5))
            if ready:
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break
                out.write(chunk)
                out.flush()
                output += chunk
                window = tail + (chunk.replace(interleaved, b"") if interleaved else chunk)
                prompted = prompted or PROMPT in window
                tail = window[-(len(PROMPT) - 1):]
                # Only the new bytes (and a marker's length before them) are searched: a
                # workload may print megabytes.
                if marker_at < 0:
                    since = max(0, len(output) - len(chunk) - 16)
                    marker_at = max(output.find(marker, since) for marker in FATAL_MARKERS)
                halted_at = output.find(b"halted", marker_at) if marker_at >= 0 else -1
                if halted_at >= 0 and output.find(b"\n", halted_at) >= 0:  # the whole line
                    out.write(b"\numka run: the guest halted after a fatal error\n")
                    return 1
                waiting = [text for text in waiting if text not in output]
                if wait_for and not waiting and not pending:
                    return 0
            elif process.poll() is not None:
                break
            # Checked on every wake-up: the text may have come with the line's own echo.
            directive = parse_directive(pending[0]) if pending else None
            if directive is not None and output.find(directive[0], sent_at) >= 0:
                pending.pop(0)
                if directive[1] is not None:
                    process.stdin.write(directive[1])
                    process.stdin.flush()
                    tail, prompted = b"", False  # a prompt before the bytes is not one after them
                # `@wait` types nothing: the next line still goes at a prompt since the last one.
            if pending and parse_directive(pending[0]) is None and prompted:
                line = pending.pop(0)
                process.stdin.write(line.encode() + b"\n")
                process.stdin.flush()
                sent_at = len(output)
                tail, prompted = b"", False  # the next line waits for the next prompt
        status = process.wait()
        if LOADER_FAILURE in output:
            out.write(b"\numka run: the UEFI loader refused to boot the nucleus\n")
            return 1
        if status != 0:
            out.write(f"\numka run: QEMU exited with status {status}\n".encode())
            return status
        if waiting:
            out.write(f"\numka run: the guest stopped before printing {waiting[0].decode()!r}\n".encode())
            return 1
        if pending:
            out.write(f"\numka run: the guest stopped before {len(pending)} script line(s) ran\n".encode())
            return 1
        return 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        out.flush()


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    with tempfile.TemporaryDirectory(prefix="umka-run-") as scratch:
        command = qemu_command(arguments, Path(scratch))
        if arguments.script is None and not arguments.wait_for:
            return run_interactive(command)
        lines = []
        if arguments.script is not None:
            if not arguments.script.is_file():
                raise SystemExit(f"umka run: script not found: {arguments.script}")
            lines = [line.rstrip("\r\n") for line in arguments.script.read_text().splitlines()]
            lines = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
            for line in lines:
                parse_directive(line)  # a malformed directive is refused before the boot
        return run_scripted(command, lines, [text.encode() for text in arguments.wait_for],
                            arguments.timeout, arguments.interleaved_byte.encode())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
