#!/usr/bin/env python3
"""QEMU boot tests, run by ctest: boot a scenario, read the serial console, assert.

    boot_test.py --build DIR --accel kvm|tcg SCENARIO

Each scenario boots through test/qemu/umka_qemu.py (the same path as `./umka run`) and
checks what the guest printed. Exit status 0 means every assertion held.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "umka_qemu.py"
sys.path.insert(0, str(HERE))
import crash_scenario  # noqa: E402
import ext2_scenario  # noqa: E402
import file_differential  # noqa: E402
BOOT_STEPS = ("early serial", "memory map", "frame allocator", "page tables", "descriptors and traps",
              "acpi", "interrupt controller", "timer calibration", "secondary cpus", "rendezvous",
              "bundle", "console ready")


class Failure(Exception):
    pass


def boot(build: Path, accel: str, script: list[str], *options: str, timeout: int = 240) -> tuple[int, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as handle:
        handle.write("\n".join(script) + "\n")
        handle.flush()
        command = [sys.executable, str(RUNNER), "--build", str(build), "--accel", accel,
                   "--timeout", str(timeout), "--script", handle.name, *options]
        result = subprocess.run(command, capture_output=True, text=True, errors="replace")
    output = result.stdout.replace("\r", "")
    sys.stdout.write(output)
    return result.returncode, output


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


def expect_text(output: str, text: str) -> None:
    expect(text in output, f"expected {text!r} in the console output")


def expect_clean_power_off(status: int, output: str) -> None:
    expect_text(output, "poweroff: entering ACPI S5")
    expect(status == 0, f"QEMU should exit 0 after poweroff, got {status}")


def check_timeline(output: str) -> None:
    table = output.split("umka> timeline", 1)
    expect(len(table) == 2, "the timeline command did not run")
    rows = re.findall(r"^\s+(\d+) us\s+(\d+) us\s+(.+)$", table[1], re.MULTILINE)
    names = [name.strip() for _, _, name in rows]
    for step in BOOT_STEPS:
        expect(step in names, f"timeline lacks the step {step!r}")
    since_entry = [int(value) for value, _, _ in rows]
    expect(since_entry == sorted(since_entry), "timeline is not monotonic")


def scenario_boot(build: Path, accel: str, smp: int, uefi: bool) -> None:
    options = ["--smp", str(smp)] + (["--uefi"] if uefi else [])
    status, output = boot(build, accel, ["cpus", "timeline", "poweroff"], *options)
    expect_text(output, f"booted by {'uefi' if uefi else 'multiboot1'}")
    expect_text(output, f"{smp} of {smp} CPUs online")
    cpu_rows = re.findall(r"^\s*(\d+)\s+(\d+)\s+(\w+)\s+\d+$", output.split("umka> cpus", 1)[1], re.MULTILINE)
    expect(len(cpu_rows) == smp, f"cpus listed {len(cpu_rows)} CPUs, expected {smp}")
    expect(all(state == "online" for _, _, state in cpu_rows), "a CPU is not online")
    expect_text(output, "W^X holds")
    check_timeline(output)
    expect_clean_power_off(status, output)


def scenario_q35(build: Path, accel: str) -> None:
    # QEMU's q35 (ICH9, PCIe): the nucleus boots the default bundle on it and reads the
    # PCI configuration space's place from the MCFG (QEMU's MCH puts it at 0xb0000000).
    # The bus driver walks it through ECAM (the MCFG window the nucleus grants it): the MCH,
    # ICH9's LPC/SATA/SMBus.
    status, output = boot(build, accel, ["cpus", "mods", "pci", "poweroff"], "--machine", "q35", "--smp", "2")
    expect_text(output, "2 of 2 CPUs online")
    expect_text(output, "acpi: PCI segment 0 buses 0-255: configuration space at 0xb0000000")
    mods = command_output(output, "mods")
    expect("refused" not in mods and mods.count(" loaded") >= 7, f"a module did not load on q35:\n{mods}")
    rows = pci_rows(output)
    expect(rows.get("00:00.0") == "8086:29c0 0600 - none", f"no q35 MCH at 00:00.0: {rows}")
    expect_text(output, "functions on 1 buses through ECAM")
    expect(rows.get("00:1f.0", "").startswith("8086:2918 0601"), f"no ICH9 LPC at 00:1f.0: {rows}")
    expect(rows.get("00:1f.2", "").startswith("8086:2922 0106 - msi("), f"no ICH9 AHCI with MSI at 00:1f.2: {rows}")
    expect_clean_power_off(status, output)


def pci_rows(output: str) -> dict[str, str]:
    """`pci`'s rows: address -> "vendor:device class driver irq"."""
    return {match[0]: " ".join(match[1:]) for match in re.findall(
        r"^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) ([0-9a-f]{4}:[0-9a-f]{4})\s+([0-9a-f]{4})\s+(\S+)\s+(\S+)$",
        command_output(output, "pci"), re.MULTILINE)}


def scenario_pci(build: Path, accel: str) -> None:
    # The bus driver module walks QEMU's pc machine through the 0xCF8 ports: the i440FX and
    # PIIX3 functions QEMU always has, and the two modern virtio-blk disks attached.
    with tempfile.TemporaryDirectory() as directory:
        disks = []
        for index in range(2):
            disk = Path(directory) / f"disk{index}.img"
            disk.write_bytes(bytes(1 << 20))
            disks += ["--disk", str(disk)]
        status, output = boot(build, accel, ["pci", "pci bars", "pci nonsense", "poweroff"], *disks)
    rows = pci_rows(output)
    expect(rows.get("00:00.0") == "8086:1237 0600 - none", f"no i440FX host bridge at 00:00.0: {rows}")
    expect(rows.get("00:01.0", "").startswith("8086:7000 0601"), f"no PIIX3 ISA bridge at 00:01.0: {rows}")
    expect(rows.get("00:01.1", "").startswith("8086:7010 0101"), f"no PIIX3 IDE at 00:01.1: {rows}")
    # The device registry bound both to the virtio-blk driver, which claimed them (*).
    disks_found = [address for address, row in rows.items() if row.startswith("1af4:1042 0100 virtio_blk* msix(")]
    expect(len(disks_found) == 2, f"expected two modern virtio-blk functions with MSI-X, bound: {rows}")
    expect_text(output, f"pci: {len(rows)} devices published, 2 bound")
    expect_text(output, f"{len(rows)} functions on 1 buses through ports 0xcf8")
    expect_text(output, "mmio: pci_bus_driver.umod asked for window 0: the MCFG describes no such")
    bars = command_output(output, "pci bars")
    for address in disks_found:
        # QEMU's modern virtio-pci: the MSI-X table in BAR 1, the structures in 64-bit BAR 4.
        expect(re.search(rf"^{re.escape(address)} bar4 mem64 0x[0-9a-f]+ \+0x4000 prefetchable$", bars,
                         re.MULTILINE) is not None, f"{address}: no 16 KiB 64-bit BAR 4:\n{bars}")
    expect_text(output, "usage: pci | pci bars")
    expect(re.search(r"module pci_bus_driver \d+ loaded from pci_bus_driver\.umod", output) is not None,
           "the PCI bus driver module did not load")
    expect_clean_power_off(status, output)


def fill_pattern(seed: int, length: int) -> bytes:
    """The documented `fill` pattern (kabi-gen/sdk/include/umka/fill_pattern.h), recomputed
    here from its description: xorshift64 (13/7/17) seeded with seed ^ 0x9E3779B97F4A7C15."""
    mask = (1 << 64) - 1
    state = (seed ^ 0x9E3779B97F4A7C15) & mask or 1
    words = []
    for _ in range(length // 8):
        state ^= (state << 13) & mask
        state ^= state >> 7
        state ^= (state << 17) & mask
        words.append(state.to_bytes(8, "little"))
    return b"".join(words)


def scenario_blk(build: Path, accel: str, machine: str = "q35") -> None:
    # Two modern virtio-blk disks on q35 (ECAM; `blk-pc`: pc, through the 0xCF8 ports), the
    # registry binding both to the virtio-blk driver, the second read-only. The host is the oracle: the guest's SHA-256 of the
    # images' sectors must be hashlib's, and after `blk fill` the image file on the host must
    # hold exactly the documented pattern where the guest wrote and the old bytes elsewhere.
    with tempfile.TemporaryDirectory() as directory:
        first, second = Path(directory) / "vda.img", Path(directory) / "vdb.img"
        original = os.urandom(4 << 20)
        first.write_bytes(original)
        read_only = os.urandom(1 << 20)
        second.write_bytes(read_only)
        script = ["blk", "blk sha256 vda 0 8192", "blk sha256 vdb 16 100", "blk fill vda 100 300 7",
                  "blk sha256 vda 100 300", "blk fill vdb 0 8 1", "blk sha256 vda 8190 10",
                  "blk sha256 vdc 0 1", "blk sha256 vda x 1", "blk bench vda read 64 200",
                  "blk bench vda randread 8 300 16", "pci", "irqs", "poweroff"]
        status, output = boot(build, accel, script, "--machine", machine, "--disk", str(first),
                              "--disk", f"{second}:ro")
        written = first.read_bytes()
        unchanged = second.read_bytes()
    listing = command_output(output, "blk")
    expect(re.search(r"^vda 8192 512 64 virtio_blk@00:0[0-9a-f]\.0 rw$", listing, re.MULTILINE) is not None,
           f"no vda:\n{listing}")
    expect(re.search(r"^vdb 2048 512 64 virtio_blk@00:0[0-9a-f]\.0 ro$", listing, re.MULTILINE) is not None,
           f"no read-only vdb:\n{listing}")
    expect_text(listing, "2 block devices")
    expect_text(output, f"vda 0+8192 sha256 {hashlib.sha256(original).hexdigest()}")
    expect_text(output, f"vdb 16+100 sha256 {hashlib.sha256(read_only[16 * 512:116 * 512]).hexdigest()}")
    pattern = fill_pattern(7, 300 * 512)
    expect(written[100 * 512:400 * 512] == pattern, "the image does not hold the fill pattern where the guest wrote it")
    expect(written[:100 * 512] == original[:100 * 512] and written[400 * 512:] == original[400 * 512:],
           "the fill changed bytes outside sectors 100..399")
    expect_text(output, f"vda 100+300 filled seed 7 sha256 {hashlib.sha256(pattern).hexdigest()}")
    expect_text(output, f"vda 100+300 sha256 {hashlib.sha256(pattern).hexdigest()}")
    expect(unchanged == read_only, "the read-only image changed")
    expect("EROFS" in command_output(output, "blk fill vdb 0 8 1"), "a fill of the read-only disk did not say EROFS")
    expect_text(command_output(output, "blk sha256 vda 8190 10"), "past the end")
    expect("ENODEV" in command_output(output, "blk sha256 vdc 0 1"), "vdc should be ENODEV")
    expect_text(command_output(output, "blk sha256 vda x 1"), "'x' is")
    expect(re.search(r"^vda read 64 sectors x 200 requests: \d+ us, [\d.]+ MiB/s, \d+ requests/s, \d+ in flight$",
                     command_output(output, "blk bench vda read 64 200"), re.MULTILINE) is not None,
           "no bench line")
    expect(re.search(r"^vda randread 8 sectors x 300 requests: \d+ us, [\d.]+ MiB/s, \d+ requests/s, 16 in flight$",
                     command_output(output, "blk bench vda randread 8 300 16"), re.MULTILINE) is not None,
           "no random-read bench line")
    rows = pci_rows(output)
    bound = [row for row in rows.values() if row.startswith("1af4:1042 0100 virtio_blk* msix(")]
    expect(len(bound) == 2, f"both disks should be bound to virtio_blk and claimed: {rows}")
    # Completions came by MSI-X: one binding per disk, vda's (which did nearly all the I/O)
    # delivered interrupts, nothing spurious.
    expect(output.count(", MSI-X\n") == 2, "a disk is polled instead of interrupting")
    irqs = command_output(output, "irqs")
    delivered = {int(cookie): int(count) for cookie, count in re.findall(
        r"^\s*\d+\s+\d+ virtio_blk\.umod\s+(\d+)\s+(\d+)\s+\d+ (?:yes|no)\s+\d+/\d+$", irqs, re.MULTILINE)}
    expect(set(delivered) == {0, 1} and delivered[0] > 0, f"no MSI-X deliveries to virtio_blk:\n{irqs}")
    expect(re.search(r"^delivered \d+, spurious 0, unhandled \d+, storms 0$", irqs, re.MULTILINE) is not None,
           f"spurious interrupts or storms:\n{irqs}")
    expect_clean_power_off(status, output)


def scenario_files(build: Path, accel: str) -> None:
    # The VFS over tmpfs: the root holds the bundle's root/ tree (initramfs/root, compared
    # byte for byte), files the guest writes hash as hashlib says, and every refusal names
    # its path and errno.
    script = ["ls /", "cat /etc/motd", "stat /etc/hostname", "mkdir /work", "append /work/log 20000",
              "append /work/other 5", "mkdir /work",
              "write /work/a hello files", "cat /work/a", "fill /work/f 300000 11", "sha256 /work/f",
              "ln /work/f /work/hard", "stat /work/f", "ln -s /etc/motd /work/motd", "cat /work/motd",
              "mv /work/a /work/b", "cat /work/a", "ls -l /work", "rm /work/nope", "rmdir /etc",
              "rm /work", "cat /etc/motd/x", "mkdir /mnt", "mount empty /mnt tmpfs", "write /mnt/x on mnt",
              "mv /mnt/x /work/x", "mount", "df", "umount /mnt", "cat /mnt/x", "rm /work/hard",
              "stat /work/f", "wait 3000", "append", "sha256 /work/log", "fill /work/big 8000000 1",
              "rm /work/big", "cd /work", "pwd", "write rel relative", "cat /work/rel", "ls", "cd ..", "pwd", "cd /nope",
              "cd /etc/motd", "pwd", "poweroff"]
    status, output = boot(build, accel, script)
    root = Path(__file__).resolve().parents[2] / "initramfs" / "root"
    motd = (root / "etc" / "motd").read_text()
    expect(command_output(output, "cat /etc/motd") == motd, "cat /etc/motd is not initramfs/root/etc/motd")
    expect_text(command_output(output, "ls /"), "etc/")
    expect_text(command_output(output, "stat /etc/hostname"),
                f"/etc/hostname: regular file, size {(root / 'etc' / 'hostname').stat().st_size}, ")
    expect_text(command_output(output, "mkdir /work", 1), "mkdir: /work: EEXIST")
    expect(command_output(output, "cat /work/a") == "hello files\n", "write then cat lost bytes")
    digest = hashlib.sha256(fill_pattern(11, 300000 + 7)[:300000]).hexdigest()
    expect_text(command_output(output, "sha256 /work/f"), f"{digest}  /work/f")
    expect_text(command_output(output, "stat /work/f"), "size 300000, ")
    expect_text(command_output(output, "stat /work/f"), ", links 2, ")
    expect(command_output(output, "cat /work/motd") == motd, "the symlink does not lead to /etc/motd")
    expect_text(command_output(output, "cat /work/a", 1), "cat: /work/a: ENOENT")
    listing = command_output(output, "ls -l /work")
    expect(re.search(r"^lrwxrwxrwx\s+1\s+9 motd -> /etc/motd$", listing, re.MULTILINE) is not None,
           f"ls -l shows no symlink:\n{listing}")
    expect(re.search(r"^-rw-r--r--\s+2\s+300000 f$", listing, re.MULTILINE) is not None, f"no f:\n{listing}")
    expect_text(command_output(output, "rm /work/nope"), "rm: /work/nope: ENOENT")
    expect_text(command_output(output, "rmdir /etc"), "rmdir: /etc: ENOTEMPTY")
    expect_text(command_output(output, "rm /work"), "rm: /work: EISDIR")
    expect_text(command_output(output, "cat /etc/motd/x"), "cat: /etc/motd/x: ENOTDIR")
    expect_text(command_output(output, "mv /mnt/x /work/x"), "mv: /mnt/x: EXDEV")
    mounts = command_output(output, "mount")
    expect("boot on / type tmpfs" in mounts and "empty on /mnt type tmpfs" in mounts, f"mount table:\n{mounts}")
    # /mnt holds x: its one data block and the root directory's, two inodes of its table.
    usage = re.search(r"^/mnt\s+tmpfs\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", command_output(output, "df"),
                      re.MULTILINE)
    expect(usage is not None and int(usage[2]) == 2 and int(usage[1]) == int(usage[2]) + int(usage[3])
           and int(usage[4]) - int(usage[5]) == 2, f"df of /mnt:\n{command_output(output, 'df')}")
    expect_text(command_output(output, "cat /mnt/x"), "cat: /mnt/x: ENOENT")
    expect_text(command_output(output, "stat /work/f", 1), ", links 1, ")
    # A volume holds 4 MiB: the 8 MB file stops at ENOSPC, and the system goes on.
    expect_text(command_output(output, "fill /work/big 8000000 1"), "fill: /work/big: ENOSPC")
    # The appender wrote from its own thread, one descriptor with O_APPEND, while every
    # command above ran: each of its lines once, in order, nothing else in the file.
    expect_text(command_output(output, "append /work/other 5"), "append: one is already running")
    expect_text(command_output(output, "append"), "append: /work/log: 20000 of 20000 lines, done")
    lines = "".join(f"line {number:06d}\n" for number in range(1, 20001)).encode()
    expect_text(command_output(output, "sha256 /work/log"), f"{hashlib.sha256(lines).hexdigest()}  /work/log")
    # The console's working directory (its descriptor table's): relative paths start there.
    expect(command_output(output, "pwd") == "/work\n", f"pwd after cd /work: {command_output(output, 'pwd')!r}")
    expect(command_output(output, "cat /work/rel") == "relative\n", "a relative write did not land in /work")
    expect_text(command_output(output, "ls"), "rel")
    expect(command_output(output, "pwd", 1) == "/\n", "cd .. from /work is not /")
    expect_text(command_output(output, "cd /nope"), "cd: /nope: ENOENT")
    expect_text(command_output(output, "cd /etc/motd"), "cd: /etc/motd: ENOTDIR")
    expect(command_output(output, "pwd", 2) == "/\n", "a refused cd moved the directory")
    expect_clean_power_off(status, output)


def scenario_files_differential(build: Path, accel: str) -> None:
    # 240 random operations on the guest's VFS and on this machine's Linux must answer alike
    # (file_differential.py). UMKA_FILES_SEED picks another sequence; the seed is printed.
    seed = int(os.environ.get("UMKA_FILES_SEED", "2026"))
    sequence = file_differential.operations(seed, 240)
    lines = [file_differential.guest_line(operation) for operation in sequence]
    status, output = boot(build, accel, [f"mkdir {file_differential.BASE}", *lines, "poweroff"], timeout=400)
    guest = file_differential.guest_answers(output, lines, [operation[0] for operation in sequence])
    host = file_differential.host_answers(sequence)
    differences = [f"  {index}: {line!r}: guest {mine!r}, Linux {theirs!r}"
                   for index, (line, mine, theirs) in enumerate(zip(lines, guest, host)) if mine != theirs]
    refusals = sum(1 for answer in host if answer.startswith("E"))
    print(f"files-differential: seed {seed}, {len(sequence)} operations, {refusals} refused on Linux, "
          f"{len(differences)} differences")
    expect(not differences, f"seed {seed}: the VFS and Linux disagree:\n" + "\n".join(differences[:20]))
    expect(refusals > 40, f"seed {seed}: only {refusals} refusals: the sequence tests too little")
    expect_clean_power_off(status, output)


DEFAULT_MODULES = ("serial_console", "console_service", "shell", "kernel_heap", "scheduler", "workload",
                   "pci_bus_driver", "virtio_blk", "block_console", "tmpfs", "ext2", "vfs_service", "file_console")


def scenario_edu(build: Path, accel: str) -> None:
    # QEMU's edu device has one plain MSI vector: the edu_driver fixture takes it through
    # bus_access.Irq (kind Msi) and its bus driver (PciBus.program_msi), then raises
    # interrupts one at a time (each handled), then a storm: the nucleus holds the handler
    # for the rest of each second past 20000 interrupts, says so, and the console answers.
    manifest = (HERE.parent.parent / "initramfs" / "default" / "manifest.txt").read_text()
    manifest += "module edu_driver.umod tier=0 transport=direct\n"
    files = {name + ".umod": module_bytes(build, name) for name in DEFAULT_MODULES + ("edu_driver",)}
    with tempfile.NamedTemporaryFile(suffix=".cpio") as handle:
        handle.write(bundle_with(build, manifest, files))
        handle.flush()
        # `wait 1100`: the last hold ends at most a second after the storm does.
        status, output = boot(build, accel, ["pci", "edu irq 50", "irqs", "edu storm 1500", "irqs", "cpus",
                                             "wait 1100", "edu irq 5", "edu irq 0", "poweroff"],
                              "--bundle", handle.name, "--device", "edu", "--smp", "2")
    rows = pci_rows(output)
    expect(any(row.startswith("1234:11e8 00ff edu_driver* msi(") for row in rows.values()),
           f"the edu device is not bound to edu_driver: {rows}")
    expect(re.search(r"irq: edu_driver\.umod device 0: MSI vector \d+ on cpu \d+", output) is not None,
           "no MSI binding for edu_driver")
    expect_text(output, "edu: 50 interrupts raised one at a time, 50 handled by MSI")
    first = command_output(output, "irqs", 0)
    expect(re.search(r"^\s*\d+\s+\d+ edu_driver\.umod\s+0\s+(\d+) ", first, re.MULTILINE) is not None,
           f"irqs lists no edu binding:\n{first}")
    expect(re.search(r"^delivered \d+, spurious 0, unhandled \d+, storms 0$", first, re.MULTILINE) is not None,
           f"a storm or a spurious interrupt before the storm:\n{first}")
    stormed = command_output(output, "edu storm 1500")
    raised = re.search(r"edu: storm: (\d+) interrupts raised in 1500 ms, (\d+) handled; (\d+) found nothing",
                       stormed)
    expect(raised is not None, f"the storm did not report:\n{stormed}")
    expect(int(raised[1]) > 20000, f"too few interrupts for a storm ({raised[1]}): the test proves nothing")
    expect(re.search(r"irq: edu_driver\.umod vector \d+: 20000 interrupts within a second; held for the "
                     r"rest of it", output) is not None, "the nucleus did not report the storm")
    second = command_output(output, "irqs", 1)
    storms = re.search(r"^delivered \d+, spurious 0, unhandled \d+, storms (\d+)$", second, re.MULTILINE)
    expect(storms is not None and int(storms[1]) >= 1, f"no storm counted:\n{second}")
    # Unhandled interrupts: each handler run that found the edu status register empty
    # answered NotMine; the nucleus's count for the binding lies between the driver's own
    # count at the end of the storm and its count at the end of the run.
    unhandled = re.search(r"^\s*\d+\s+\d+ edu_driver\.umod\s+0\s+\d+\s+(\d+) ", second, re.MULTILINE)
    expect_text(command_output(output, "cpus"), "CPUs online")
    last = re.search(r"edu: 5 interrupts raised one at a time, 5 handled by MSI, \d+ us each; (\d+) found nothing",
                     output)
    expect(last is not None, "the last edu irq did not report")
    expect(unhandled is not None and int(raised[3]) <= int(unhandled[1]) <= int(last[1]),
           f"the nucleus's unhandled count disagrees with the driver's ({raised[3]}..{last[1]}):\n{second}")
    expect_text(command_output(output, "edu irq 0"), "usage: edu irq N (1..10000)")
    expect_clean_power_off(status, output)


def scenario_dma(build: Path, accel: str) -> None:
    # bus_access.Dma through the workload module's `probe dma`, twice: every refusal names its
    # errno, the buffer is usable, and the second round leaves exactly as many free frames as
    # the first (the first may keep a page of records for later).
    status, output = boot(build, accel, ["probe dma", "mem", "probe dma", "mem", "probe mmio", "poweroff"])
    for occurrence in range(2):
        probe = command_output(output, "probe dma", occurrence)
        for call, answer in (("allocate 0 bytes", "EINVAL"), ("allocate with no direction", "EINVAL"),
                             ("allocate with an unknown direction bit", "EINVAL"),
                             ("allocate 1 TiB", "EINVAL"), ("allocate 12288 bytes", "OK"),
                             ("sync all to the device", "OK"), ("sync the last byte from the device", "OK"),
                             ("sync one byte past the end", "ERANGE"), ("sync at offset 2^64-1", "ERANGE"),
                             ("sync with no direction", "EINVAL"), ("release through ModuleMemory", "EINVAL"),
                             ("release", "OK"), ("release again", "EINVAL"), ("sync after release", "EINVAL"),
                             ("release a forged handle", "EINVAL")):
            expect(f"probe: dma: {call} -> {answer}\n" in probe, f"expected '{call} -> {answer}':\n{probe}")
        expect_text(probe, "probe: dma: buffer of 12288 bytes: device address below 4 GiB, page-aligned, "
                           "zeroed, reads back what was written")
        expect_text(probe, "probe: dma: 256 allocate+release of 64 KiB, 0 failures")
        expect_text(probe, "probe: dma: 256 buffers held, the next -> ENOMEM")
    free = [int(value) for value in re.findall(r"^frames: total \d+, free (\d+),", output, re.MULTILINE)]
    expect(len(free) == 2 and free[0] == free[1], f"free frames after each probe differ (a leak): {free}")
    # Mmio: the workload module is granted no window.
    expect_text(output, "probe: mmio: map window 0 -> EPERM")
    expect_text(output, "mmio: workload.umod asked for window 0: no device bound to it has that window")
    expect_text(output, "probe: mmio: read through a forged window -> EINVAL")
    expect_clean_power_off(status, output)


def scenario_rendezvous(build: Path, accel: str) -> None:
    status, output = boot(build, accel, ["rendezvous", "poweroff"], "--smp", "4")
    expect_text(output, "function ran on 4 of 4 CPUs")
    expect_text(output, "rendezvous stop-the-world: 4 CPUs held")
    expect_clean_power_off(status, output)


def symbol_range(elf: Path, name: str) -> tuple[int, int]:
    listing = subprocess.run(["nm", "-S", "--defined-only", str(elf)], capture_output=True, text=True,
                             check=True).stdout
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[3] == name:
            start = int(fields[0], 16)
            return start, start + int(fields[1], 16)
    raise Failure(f"{name} not found in {elf}")


def scenario_fault(build: Path, accel: str) -> None:
    status, output = boot(build, accel, ["poweroff"], "--image", "nucleus-faulttest", timeout=120)
    expect(status != 0, "a fatal exception must not end the run successfully")
    expect_text(output, "FATAL EXCEPTION on cpu 0: vector 14 (#PF page fault)")
    match = re.search(r"rip 0x([0-9a-f]+)\s+error code 0x([0-9a-f]+)\s+cr2 0x([0-9a-f]+)", output)
    expect(match is not None, "the report lacks rip/error code/cr2")
    rip, error_code, cr2 = (int(group, 16) for group in match.groups())
    start, end = symbol_range(build / "nucleus-faulttest.elf", "fault_injection_trigger")
    expect(start <= rip < end, f"rip {rip:#x} is not inside fault_injection_trigger [{start:#x}, {end:#x})")
    expect(cr2 == 0x10, f"cr2 should be the faulting address 0x10, got {cr2:#x}")
    expect(error_code & 0x2 != 0, "error code should say it was a write")
    caller_start, caller_end = symbol_range(build / "nucleus-faulttest.elf", "fault_injection_caller")
    frames = [int(value, 16) for value in re.findall(r"#\d+ 0x([0-9a-f]+)", output)]
    expect(any(caller_start <= frame < caller_end for frame in frames),
           "the backtrace does not pass through fault_injection_caller")
    expect_text(output, "halted: cpu 0 stopped the other CPUs")


def scenario_bad_input(build: Path, accel: str) -> None:
    with tempfile.NamedTemporaryFile(suffix=".cpio") as corrupt:
        corrupt.write(b"this is not a cpio archive" * 40)
        corrupt.flush()
        status, output = boot(build, accel, ["frobnicate now", "help", "poweroff"], "--bundle", corrupt.name)
    expect_text(output, "bundle: corrupt at byte 0: bad cpio magic (want newc 070701); continuing without modules")
    expect_text(output, "unknown command 'frobnicate'; type 'help' for the list")
    expect_text(output, "poweroff  ")  # help still answers after the error
    expect_clean_power_off(status, output)


def scenario_bad_manifest(build: Path, accel: str) -> None:
    # A bad line refuses only what it names (docs/module-contract.md, "Manifest errors"):
    # the good lines still load, and `mods` names the bad line and why.
    manifest = ("# broken\nmodule serial.umod tier=7\n" + DEFAULT_MANIFEST + "param nothing\n")
    bundle = bundle_with(build, manifest, {
        "serial_console.umod": module_bytes(build, "serial_console"),
        "console_service.umod": module_bytes(build, "console_service"),
        "shell.umod": module_bytes(build, "shell")})
    status, output = boot_bundle(build, accel, bundle, ["mods", "poweroff"])
    expect_text(output, "bundle: manifest.txt:2:20: tier must be 0, 1 or 2; this line is skipped")
    expect_text(output, "bundle: manifest.txt:6:7: 'param' needs key=value; this line is skipped")
    expect_text(output, "module serial.umod refused: EINVAL: manifest.txt:2:20: tier must be 0, 1 or 2")
    expect(re.search(r"module serial_console \d+ loaded from serial_console\.umod", output) is not None,
           "the good lines after the bad one should still load")
    expect(re.search(r"serial\.umod .* refused: EINVAL: manifest.txt:2:20", output) is not None,
           "`mods` should show the bad line's module refused with its line")
    expect("lists none" not in output, "`mods` must not claim the manifest lists no module")
    expect_clean_power_off(status, output)

    # A name longer than a record holds is refused whole: the entry its first 63 bytes name
    # (here a real module) is never loaded in its place.
    long_name = "serial_console" + "x" * 60 + ".umod"
    bundle = bundle_with(build, DEFAULT_MANIFEST.replace("serial_console.umod", long_name), {
        long_name: b"not a module",
        long_name[:63]: module_bytes(build, "serial_console"),
        "console_service.umod": module_bytes(build, "console_service"),
        "shell.umod": module_bytes(build, "shell")})
    status, output = boot_bundle(build, accel, bundle, ["mods", "poweroff"])
    expect_text(output, "refused: EINVAL: the file name is longer than 63 bytes")
    expect(re.search(r"module serial_console \d+ loaded from", output) is None,
           "the entry named by the cut name must not load")
    expect_clean_power_off(status, output)

    # A second manifest.txt: which one is meant is unknown, so the bundle loads nothing.
    first = bundle_with(build, DEFAULT_MANIFEST, {
        "serial_console.umod": module_bytes(build, "serial_console"),
        "console_service.umod": module_bytes(build, "console_service"),
        "shell.umod": module_bytes(build, "shell")})
    status, output = boot_bundle(build, accel, append_cpio_entry(first, "manifest.txt", b"module evil.umod\n"),
                                 ["mods", "poweroff"])
    expect_text(output, "bundle: two entries are named 'manifest.txt' (which one is meant is unknown); "
                        "continuing without modules")
    expect_text(output, "no modules (the bundle was refused: duplicate entry; the boot log says why)")
    expect_clean_power_off(status, output)


def append_cpio_entry(archive: bytes, name: str, data: bytes) -> bytes:
    """`archive` with one more newc entry before its TRAILER!!! (umka-bundle refuses to write
    a duplicate name, so a hostile bundle is made by hand)."""
    trailer = archive.rfind(b"070701", 0, archive.rfind(b"TRAILER!!!"))
    def entry(entry_name: str, payload: bytes, mode: int) -> bytes:
        encoded = entry_name.encode() + b"\0"
        fields = [1, mode, 0, 0, 1, 0, len(payload), 0, 0, 0, 0, len(encoded), 0]
        header = b"070701" + b"".join(b"%08X" % field for field in fields) + encoded
        header += b"\0" * (-len(header) % 4)
        return header + payload + b"\0" * (-len(payload) % 4)
    return archive[:trailer] + entry(name, data, 0o100644) + entry("TRAILER!!!", b"", 0)


def bundle_with(build: Path, manifest: str, files: dict[str, bytes]) -> bytes:
    """A bundle of `manifest` and `files` (entry name -> bytes), written by the build's
    umka-bundle, the one bundle writer (initramfs/tools/umka_bundle.cpp)."""
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        (work / "manifest.txt").write_text(manifest)
        entries = []
        for index, (name, data) in enumerate(files.items()):
            path = work / f"entry{index}"
            path.write_bytes(data)
            entries.append(f"{name}={path}")
        output = work / "bundle.cpio"
        subprocess.run([str(build / "initramfs" / "tools" / "umka-bundle"), "create", "--output", str(output),
                        "--manifest", str(work / "manifest.txt"), *entries], check=True)
        return output.read_bytes()


DEFAULT_MANIFEST = ("module serial_console.umod tier=0 transport=direct ports=0x3f8+8\n"
                    "module console_service.umod tier=0 transport=direct\n"
                    "module shell.umod tier=0 transport=direct\n")


def module_bytes(build: Path, name: str) -> bytes:
    return (build / "modules" / f"{name}.umod").read_bytes()


def boot_bundle(build: Path, accel: str, bundle: bytes, script: list[str]) -> tuple[int, str]:
    with tempfile.NamedTemporaryFile(suffix=".cpio") as handle:
        handle.write(bundle)
        handle.flush()
        return boot(build, accel, script, "--bundle", handle.name)


def scenario_modules(build: Path, accel: str) -> None:
    status, output = boot(build, accel, ["mods", "services", "caps serial_console",
                                         "heap exercise 5000", "heap", "poweroff"])
    expect_text(output, "module serial_console 1 loaded from serial_console.umod")
    expect_text(output, "module console_service 1 loaded from console_service.umod")
    expect("the nucleus console takes over" not in output, "the console module did not run")
    rows = {name: tier + note for name, tier, note in
            re.findall(r"^(\w+)\s+\d+\s+(\d \w+)\s+\d+\s+\d+\s+\d+\s+\d+\s+verified\s+loaded(, (?:no )?memory domain)?$",
                       output, re.MULTILINE)}
    # The default bundle runs the console at tier 1 over a ring; everything else direct. The
    # serial driver, served over the console's ring, runs its requests in a memory domain
    # (TCG's `max` CPU has PKS), and so does the console when the shell calls it directly,
    # through the nucleus's trampoline (its Interrupt service).
    expect_text(output, "containment: memory domains on: module code on a guarded path runs with the "
                        "nucleus's data write-disabled (PKS key 1)")
    expect_text(output, "containment: shell -> console_service console_command.Interrupt: direct calls through "
                        "the nucleus's trampoline")
    expect(rows == {"console_service": "1 ring, memory domain", "kernel_heap": "0 direct",
                    "scheduler": "0 direct", "serial_console": "0 direct, memory domain", "shell": "0 direct",
                    "workload": "0 direct", "pci_bus_driver": "0 direct", "virtio_blk": "0 direct",
                    "block_console": "0 direct", "tmpfs": "0 direct", "ext2": "0 direct", "vfs_service": "0 direct",
                    "file_console": "0 direct"},
           f"mods rows: {rows}")
    expect(re.search(r"heap exercise: 5000 allocate\+free pairs on cpu 0, 0 failures, 0 corrupted", output)
           is not None, "the heap module did not serve 5000 checked allocations")
    expect(re.search(r"kernel_heap\s+-> nucleus\s+kernel_services.ModuleMemory v1", output) is not None,
           "services lacks kernel_heap -> nucleus ModuleMemory")
    expect(re.search(r"console_service\s+-> serial_console\s+char_device.CharDevice v1 .* ring$", output,
                     re.MULTILINE) is not None,
           "services lacks console_service -> serial_console over a ring")
    expect(re.search(r"serial_console\s+-> nucleus\s+bus_access.PortIo v1", output) is not None,
           "services lacks serial_console -> nucleus PortIo")
    expect(re.search(r"shell\s+-> nucleus\s+introspection.Machine v2", output) is not None,
           "services lacks shell -> nucleus introspection.Machine")
    expect(re.search(r"console_service\s+-> shell\s+console_command.CommandSet v2", output) is not None,
           "services lacks console_service -> shell CommandSet")
    expect_text(output, "capabilities of serial_console")
    expect(re.search(r"0x[0-9a-f]{16}\s+service-binding\s+c", output) is not None,
           "caps lists no service-binding capability")
    expect_clean_power_off(status, output)


def scenario_evolution_bundle(build: Path, accel: str) -> None:
    # The refusal bundle is the default bundle plus the alternative versions and the refusal
    # fixtures (initramfs/README.md): files no manifest line names are carried, not loaded.
    bundle = build / "evolution-refusals.cpio"
    expect(bundle.is_file(), f"{bundle} was not built (target evolution_refusals_bundle)")
    status, output = boot(build, accel, ["mods", "poweroff"], "--bundle", str(bundle))
    expect_text(output, "25 entries, 13 modules requested")
    rows = re.findall(r"^(\w+)\s+(\d+)\s+\d \w+\s+\d+\s+\d+\s+\d+\s+\d+\s+verified\s+loaded(?:, (?:no )?memory domain)?$",
                      output, re.MULTILINE)
    expect(sorted(rows) == [("block_console", "1"), ("console_service", "1"), ("ext2", "1"),
                            ("file_console", "2"), ("kernel_heap", "1"), ("pci_bus_driver", "1"),
                            ("scheduler", "2"), ("serial_console", "1"), ("shell", "2"), ("tmpfs", "1"),
                            ("vfs_service", "5"), ("virtio_blk", "3"), ("workload", "1")], f"mods rows: {rows}")
    expect("refused" not in output, "a module the manifest does not name was looked at")
    expect_clean_power_off(status, output)


def scenario_module_tampered(build: Path, accel: str) -> None:
    serial = bytearray(module_bytes(build, "serial_console"))
    serial[len(serial) // 2] ^= 0x40
    bundle = bundle_with(build, DEFAULT_MANIFEST, {"serial_console.umod": bytes(serial),
                                                   "console_service.umod": module_bytes(build, "console_service"),
                                                   "shell.umod": module_bytes(build, "shell")})
    status, output = boot_bundle(build, accel, bundle, ["mods", "poweroff"])
    expect(re.search(r"module serial_console.umod refused: ENOEXEC: .*signature", output) is not None,
           "the tampered module was not refused with ENOEXEC and a signature reason")
    expect(re.search(r"module console_service.umod refused: \w+", output) is not None,
           "the console module should be refused without its char device")
    expect_text(output, "console: no console module is loaded; the nucleus console takes over")
    expect_clean_power_off(status, output)


def scenario_module_unsigned(build: Path, accel: str) -> None:
    serial = module_bytes(build, "serial_console")[:-80]  # drop signature and trailer
    bundle = bundle_with(build, DEFAULT_MANIFEST, {"serial_console.umod": serial,
                                                   "console_service.umod": module_bytes(build, "console_service"),
                                                   "shell.umod": module_bytes(build, "shell")})
    status, output = boot_bundle(build, accel, bundle, ["poweroff"])
    expect(re.search(r"module serial_console.umod refused: ENOEXEC: module is unsigned", output) is not None,
           "the unsigned module was not refused as unsigned")
    expect_clean_power_off(status, output)


def scenario_module_cycle(build: Path, accel: str) -> None:
    manifest = DEFAULT_MANIFEST + "module cycle_a.umod\nmodule cycle_b.umod\n"
    files = {name + ".umod": module_bytes(build, name)
             for name in ("serial_console", "console_service", "shell", "cycle_a", "cycle_b")}
    status, output = boot_bundle(build, accel, bundle_with(build, manifest, files), ["mods", "poweroff"])
    expect(re.search(r"module cycle_a.umod refused: .*cycle: cycle_a -> cycle_b -> cycle_a", output) is not None
           or re.search(r"module cycle_a.umod refused: .*cycle: cycle_b -> cycle_a -> cycle_b", output) is not None,
           "the cycle was not named")
    expect_text(output, "module console_service 1 loaded")  # the rest of the bundle still loads
    expect_clean_power_off(status, output)


def load_counters(section: str) -> tuple[list[int], list[int]]:
    threads = [int(value) for value in re.findall(r"^  thread\s+\d+: (\d+)$", section, re.MULTILINE)]
    cpus = [int(value) for value in re.findall(r"^  cpu \d+: (\d+)$", section, re.MULTILINE)]
    return threads, cpus


def scenario_threads(build: Path, accel: str) -> None:
    # Under a nested hypervisor 16 spinning threads starve the console for minutes.
    status, output = boot(build, accel, ["load start cpu 16", "wait 500", "load stats", "threads",
                                         "wait 500", "load stats", "load stop", "threads",
                                         "measure switch 200", "poweroff"],
                          "--smp", "4", timeout=540)
    expect_text(output, "sched: threads run under the scheduler policy module on 4 CPUs")
    expect_text(output, "load: 16 counting threads started")
    sections = output.split("umka> load stats")
    expect(len(sections) == 3, "load stats did not run twice")
    first_threads, first_cpus = load_counters(sections[1].split("umka>")[0])
    second_threads, second_cpus = load_counters(sections[2].split("umka>")[0])
    expect(len(first_threads) == 16 and len(second_threads) == 16, "load stats lists 16 threads")
    expect(len(second_cpus) == 4 and all(count > 0 for count in second_cpus),
           f"every CPU must have run counting threads: {second_cpus}")
    stalled = [index for index in range(16) if second_threads[index] <= first_threads[index]]
    expect(not stalled, f"threads {stalled} made no progress between the two samples")
    placed = set(re.findall(r"^\s+\d+\s+cpu-load-\d+\s+(\d+)\s", output, re.MULTILINE))
    expect(placed == {"0", "1", "2", "3"}, f"threads were placed on CPUs {sorted(placed)}")
    expect_text(output, "load: stopped 16 threads")
    expect(re.search(r"context switch: \d+ ns per switch .*, [1-9]\d* switches\)", output) is not None,
           "measure switch did not switch between two threads")
    expect_clean_power_off(status, output)


def scenario_thread_services(build: Path, accel: str) -> None:
    status, output = boot(build, accel, ["load start alloc 8", "wait 500", "load stop", "heap",
                                         "load start sleep 8", "wait 300", "load stats", "load stop",
                                         "poweroff"],
                          "--smp", "4", timeout=540)
    # Allocation churn through the heap module from 8 threads on 4 CPUs: every object freed.
    expect_text(output, "load: 8 allocating threads started")
    heap_table = output.split("umka> heap", 1)[1].split("umka>")[0]
    allocations, frees, live = heap_totals(heap_table)
    nucleus_allocations, nucleus_frees, _ = nucleus_heap_share(heap_table)
    expect(allocations - nucleus_allocations > 0, "the heap served no allocation to the load")
    # Every object the load took is back; what is live is the nucleus's own (ring bindings).
    # The workload module keeps its counters in its state region, not in the heap.
    expect(allocations - nucleus_allocations == frees - nucleus_frees and
           live == nucleus_allocations - nucleus_frees,
           f"heap classes show leaked objects after the workload stopped: {allocations} allocations, "
           f"{frees} frees, {live} live; the nucleus's share {nucleus_allocations}/{nucleus_frees}")
    # Threads that sleep 10 ms at a time: blocking, timer wake-ups, wake-up placement; `load
    # stop` itself waits on a wait queue for the last thread.
    naps, _ = load_counters(output.split("umka> load stats", 1)[1].split("umka>")[0])
    expect(len(naps) == 8 and all(count > 0 for count in naps), f"sleeping threads never woke: {naps}")
    expect(output.count("load: stopped 8 threads") == 2, "a workload did not stop")
    expect_clean_power_off(status, output)


RING_ROW = re.compile(r"^(\S+)\s+-> (\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.+)$", re.MULTILINE)


def ring_rows(section: str) -> dict[str, tuple[int, int, int, int, int, str]]:
    """consumer -> (entries, submitted, completed, doorbells, full-ring waits, provider thread)"""
    return {match[0]: (int(match[2]), int(match[3]), int(match[4]), int(match[5]), int(match[6]),
                       match[7].strip())
            for match in RING_ROW.findall(section)}


def command_sections(output: str, command: str) -> list[str]:
    """The output of each run of `command`, up to the next prompt."""
    return [part.split("umka>")[0] for part in output.split(f"umka> {command}\n")[1:]]


def scenario_ring_console(build: Path, accel: str) -> None:
    # The default bundle: console_service at tier 1 calls serial_console over a ring.
    status, output = boot(build, accel, ["rings", "mods", "help", "rings", "services", "poweroff"],
                          "--smp", "4")
    expect_text(output, "ring: console_service -> serial_console char_device.CharDevice over a ring of 64 entries")
    expect_text(output, "ring: console_service -> serial_console char_device.CharDevice serving on thread "
                        "ring:console_service")
    expect_text(output, "ring: console_service -> service_directory.Directory stays direct: the interface is "
                        "transport(direct) only")
    expect(re.search(r"^console_service\s+1\s+1 ring\s", output, re.MULTILINE) is not None,
           "mods does not show console_service at tier 1 over a ring")
    expect_text(output, "poweroff")  # help listed the commands, over the ring
    first, second = (ring_rows(section) for section in command_sections(output, "rings"))
    expect(list(first) == ["console_service"] and list(second) == ["console_service"],
           f"rings should list the console binding alone: {first} {second}")
    entries, submitted, completed, _, full_waits, thread = first["console_service"]
    later = second["console_service"]
    expect(entries == 64 and full_waits == 0, f"console binding: {first}")
    expect(submitted > 0 and completed > 0, f"the console made no ring call before `rings`: {first}")
    expect(later[1] > submitted and later[2] > completed,
           f"the console binding's counters did not advance between two `rings`: {first} -> {second}")
    expect(re.match(r"ring:console_service / cpu [0-3]$", thread) is not None, f"provider thread: {thread}")
    expect(re.search(r"console_service\s+-> serial_console\s+char_device.CharDevice v1 .* ring$", output,
                     re.MULTILINE) is not None, "services does not show the ring binding")
    expect_clean_power_off(status, output)


def scenario_direct_console(build: Path, accel: str) -> None:
    # The same module binaries with the console at tier 0: direct calls, no ring.
    status, output = boot(build, accel, ["rings", "mods", "help", "services", "poweroff"],
                          "--smp", "4", "--bundle", str(build / "bundle-direct.cpio"))
    expect(re.search(r"^ring: ", output, re.MULTILINE) is None, "a tier-0 console must not prepare ring bindings")
    expect_text(output, "0 ring binding(s)")
    expect(re.search(r"^console_service\s+1\s+0 direct\s", output, re.MULTILINE) is not None,
           "mods does not show console_service at tier 0, direct")
    expect(re.search(r"console_service\s+-> serial_console\s+char_device.CharDevice v1 .* direct$", output,
                     re.MULTILINE) is not None, "services does not show the direct binding")
    expect_clean_power_off(status, output)


def scenario_ring_load(build: Path, accel: str) -> None:
    status, output = boot(build, accel, ["load start ring 4", "wait 500", "rings", "load stats", "wait 500",
                                         "rings", "load stats", "load stop", "rings", "measure ring 500",
                                         "poweroff"],
                          "--smp", "4", timeout=540)
    expect_text(output, "load: 4 ring-calling threads started")
    stats = command_sections(output, "load stats")
    expect(len(stats) == 2, "load stats did not run twice")
    first_threads, _ = load_counters(stats[0])
    second_threads, _ = load_counters(stats[1])
    expect(len(first_threads) == 4 and len(second_threads) == 4, "load stats lists 4 threads")
    stalled = [index for index in range(4) if second_threads[index] <= first_threads[index]]
    expect(not stalled, f"ring threads {stalled} completed no call between the two samples")
    rings = [ring_rows(section) for section in command_sections(output, "rings")]
    loads = [f"ring-load-{index:02d}" for index in range(4)]
    for name in loads:
        expect(name in rings[0] and name in rings[1], f"rings does not list {name}: {rings[0]}")
        before, after = rings[0][name], rings[1][name]
        expect(after[1] > before[1] and after[2] > before[2],
               f"{name}: submitted/completed did not advance: {before} -> {after}")
        expect(before[5].startswith(f"ring:{name} / cpu "), f"{name} provider thread: {before[5]}")
    expect(list(rings[2]) == ["console_service"], f"the load bindings were not closed: {rings[2]}")
    expect_text(output, "load: stopped 4 threads, closed 4 ring bindings")
    expect(re.search(r"ring round trip \(CharDevice.info, caller cpu 0, provider cpu [1-3]\): \d+ ns per call "
                     r"over 500 calls", output) is not None, "measure ring did not run")
    expect(re.search(r"direct call through the service slot: \d+ ns per call; ring/direct \d+\.\d\dx",
                     output) is not None, "measure ring printed no direct baseline")
    expect(re.search(r"one cache line to cpu [1-3] and back: [1-9]\d* ns per round trip; ring/ping-pong "
                     r"\d+\.\d\dx", output) is not None, "measure ring printed no ping-pong floor")
    expect_clean_power_off(status, output)


def scenario_ring_fallback(build: Path, accel: str) -> None:
    # Tier 1 over a ring but no scheduler module: no provider thread can run, so the
    # prepared binding stays direct (and says so); a module the boot manifest puts at a
    # tier its manifest forbids is refused with both named.
    manifest = ("module serial_console.umod tier=0 transport=direct ports=0x3f8+8\n"
                "module console_service.umod tier=1 transport=ring\n"
                "module shell.umod tier=0 transport=direct\n"
                "module kernel_heap.umod tier=1 transport=ring\n")
    files = {name + ".umod": module_bytes(build, name)
             for name in ("serial_console", "console_service", "shell", "kernel_heap")}
    status, output = boot_bundle(build, accel, bundle_with(build, manifest, files), ["rings", "help", "poweroff"])
    expect_text(output, "ring: console_service -> serial_console char_device.CharDevice over a ring of 64 entries")
    expect_text(output, "ring: console_service -> char_device.CharDevice falls back to the direct record: "
                        "no scheduler to run the provider thread")
    expect(re.search(r"^console_service\s+-> serial_console.char_device.CharDevice\s+64\s+0\s+0\s+0\s+0\s+"
                     r"not started \(direct\)$", output, re.MULTILINE) is not None,
           "rings should show the console binding as not started")
    expect(re.search(r"module kernel_heap.umod refused: EINVAL: module 'kernel_heap': the boot manifest asks "
                     r"for tier 1, its manifest allows tiers 0\.\.0", output) is not None,
           "a tier outside the module's range was not refused with its reason")
    expect("the nucleus console takes over" not in output, "the console module did not run")
def scenario_thread_slots(build: Path, accel: str) -> None:
    # 2 CPUs start with 128 task slots: 200 sleeping threads need the table to grow (policy
    # state copied and re-attached with every CPU stopped). The second run reuses the slots.
    # Each run's second `load stats` is the one checked: every thread must have napped by
    # then. The first comes early on purpose (it lists the grown slots); under a loaded host
    # (two TCG guests on two cores) a few threads may not have had their first turn yet.
    status, output = boot(build, accel, ["load start sleep 200", "wait 500", "load stats", "threads",
                                         "wait 1500", "load stats", "load stop",
                                         "load start sleep 200", "wait 300", "load stats",
                                         "wait 1500", "load stats", "load stop", "poweroff"],
                          "--smp", "2", timeout=540)
    expect_text(output, "sched: task slots grown from 128 to 256")
    expect(output.count("task slots grown") == 1, "the table grew again although freed slots were there")
    expect(output.count("load: 200 sleeping threads started") == 2, "200 threads did not start twice")
    for section in output.split("umka> load stats")[2::2]:
        naps, _ = load_counters(section.split("umka>")[0])
        expect(len(naps) == 200 and all(count > 0 for count in naps),
               f"threads in grown slots never ran: {[index for index, count in enumerate(naps) if count == 0]}")
    table = output.split("umka> threads", 1)[1].split("umka>")[0]
    slots = [int(slot) for slot in re.findall(r"^\s+(\d+)\s+nap-load-\d+\s", table, re.MULTILINE)]
    expect(len(slots) == 200 and max(slots) >= 128, f"threads table: {len(slots)} threads, highest slot {max(slots, default=-1)}")
    expect(output.count("load: stopped 200 threads") == 2, "a workload did not stop")
    expect_clean_power_off(status, output)


PROBE_BAD_CALLS = {
    "spawn function in read-only data": "EFAULT",
    "spawn function outside the module": "EFAULT",
    "spawn on cpu cpu_count": "ENXIO",
    "spawn with null name": "EINVAL",
    "spawn with 30-byte name": "EINVAL",
    "spawn with priority 7": "EINVAL",
    "spawn with placement 9": "EINVAL",
    "join forged handle": "EINVAL",
    "join joined handle": "EINVAL",
    "wait on forged queue": "EINVAL",
    "wait on changed word": "EAGAIN",
    "wait with 5 ms timeout": "ETIMEDOUT",
    "wait on unaligned word": "EFAULT",
    "wait on null word": "EFAULT",
    "wake forged queue": "EINVAL",
    "destroy queue twice": "EINVAL",
}


def check_probe_run(section: str, count: int) -> None:
    expect(f"probe: started {count} threads" in section, f"the probe did not start {count} threads")
    names = re.findall(r"^\s+\d+\s+(probe-\d+)\s+\d+\s+(?:running|runnable|blocked|exited|zombie)\s", section, re.MULTILINE)
    expect(sorted(names) == sorted(f"probe-{index}" for index in range(count)),
           f"the thread table should name probe-0..probe-{count - 1} while they live: {names}")
    rows = re.findall(r"^probe: thread\s+(\d+) (ping|pong|work) (cpu \d+|anywhere)\s+ran on cpu (\d+), "
                      r"current (\w+), joined (\w+), exit (-?\d+)$", section, re.MULTILINE)
    expect(len(rows) == count, f"expected {count} joined threads, got {len(rows)}")
    for index, role, placement, ran_on, current, joined, exit_status in rows:
        expect(joined == "OK" and int(exit_status) == 100 + int(index),
               f"thread {index} joined {joined} with exit status {exit_status} (want OK, {100 + int(index)})")
        expect(current == "matches", f"thread {index}: current() inside it did not return its own handle")
        if placement != "anywhere":
            expect(placement == f"cpu {ran_on}", f"thread {index} was pinned to {placement} but ran on cpu {ran_on}")
    cpus = {ran_on for _, _, _, ran_on, _, _, _ in rows}
    expect(len(cpus) > 1, f"every probe thread ran on one CPU: {cpus}")
    handoff = re.search(r"^probe: hand-off (\d+) rounds, word (\d+), (\d+) waiters woken, (\d+) wake-ups returned$",
                        section, re.MULTILINE)
    expect(handoff is not None, "no hand-off line")
    rounds, word, woken, wakeups = (int(value) for value in handoff.groups())
    expect(word == 2 * rounds, f"the hand-off stopped at word {word} of {2 * rounds}")
    expect(woken > 0 and wakeups > 0, f"no wake-up was delivered over the wait queue ({woken} woken, {wakeups} returned)")
    for call, errno in PROBE_BAD_CALLS.items():
        expect(f"probe: bad call: {call} -> {errno}" in section, f"'{call}' should have got {errno}")
    expect("probe: current() outside a module thread -> 0" in section, "current() outside a module thread was not 0")


def scenario_thread_api(build: Path, accel: str) -> None:
    # The thread_probe module uses kernel_services.Threads from a bundle that adds it to the
    # default one. Run twice: slots and queues freed by the first run serve the second.
    manifest = (HERE.parent.parent / "initramfs" / "default" / "manifest.txt").read_text()
    manifest += "module thread_probe.umod tier=0 transport=direct\n"
    files = {name + ".umod": module_bytes(build, name)
             for name in ("serial_console", "console_service", "shell", "kernel_heap", "scheduler", "workload",
                          "thread_probe")}
    with tempfile.NamedTemporaryFile(suffix=".cpio") as handle:
        handle.write(bundle_with(build, manifest, files))
        handle.flush()
        status, output = boot(build, accel, ["probe threads 8", "probe threads 6", "probe threads 1", "threads",
                                             "poweroff"], "--bundle", handle.name, "--smp", "4", timeout=540)
    expect_text(output, "module thread_probe 1 loaded from thread_probe.umod")
    runs = output.split("umka> probe threads ")
    expect(len(runs) == 4, "the probe command did not run three times")
    check_probe_run(runs[1].split("umka>")[0], 8)
    check_probe_run(runs[2].split("umka>")[0], 6)
    expect_text(runs[3], "probe: start 1 failed: EINVAL")
    table = output.split("umka> threads", 1)[1].split("umka>")[0]
    expect("probe-" not in table, "joined probe threads are still listed")
    expect("was never created" not in output, "the policy was asked about a task it no longer has")
    expect_clean_power_off(status, output)


RING_API_CALLS = {
    "open with an empty name": "EINVAL",
    "open with a 24-byte name": "EINVAL",
    "open with placement 9": "EINVAL",
    "open on cpu cpu_count": "ENXIO",
    "open an interface nobody provides": "ENOENT",
    "open an interface without a ring adapter": "ENOENT",
    "open char_device.CharDevice": "OK",
    "counters": "OK",
    "close": "OK",
    "close again": "EINVAL",
    "counters of the closed binding": "EINVAL",
    "close a forged handle": "EINVAL",
}


def scenario_workload_limits(build: Path, accel: str) -> None:
    # The workload module's counts past their documented limits (or past 2^64) are refused
    # with the limit named, never wrapped; nucleus_mechanism.Rings answers bad arguments and
    # stale or forged handles with an errno and leaks no binding.
    refusals = {
        "heap exercise 18446744073709551617": "heap exercise: N must be 1 to 1000000; "
                                              "'18446744073709551617' is too large",
        "heap exercise 999999999": "heap exercise: N must be 1 to 1000000; '999999999' is too large",
        "load start cpu 4294967298": "load: N must be 1 to 256; '4294967298' is too large",
        "load start ring 33": "load: N must be 1 to 32; '33' is too large",
        "probe threads 33": "probe: N must be 1 to 32; '33' is too large",
        "measure switch 10000001": "measure: ROUNDS must be 1 to 10000000; '10000001' is too large",
    }
    script = [*refusals, "load stats", "probe rings", "rings", "heap exercise 1000", "poweroff"]
    status, output = boot(build, accel, script, "--smp", "2")
    for command, message in refusals.items():
        section = command_output(output, command)
        expect(message in section, f"{command}: expected {message!r}:\n{section}")
    expect_text(command_output(output, "load stats"), "load: no workload has run")
    probe = command_output(output, "probe rings")
    for call, errno in RING_API_CALLS.items():
        expect(f"probe: rings: {call} -> {errno}\n" in probe, f"Rings {call} should answer {errno}:\n{probe}")
    expect(list(ring_rows(command_output(output, "rings"))) == ["console_service"],
           "a binding of 'probe rings' is still open")
    expect_text(output, "heap exercise: 1000 allocate+free pairs on cpu ")
    expect_clean_power_off(status, output)


def scenario_console_interrupt(build: Path, accel: str) -> None:
    # Ctrl-C typed while a long command runs (not before: the runner sends it once the
    # command's echo is out) stops that command within one poll; the console then serves
    # the next command. Uninterrupted, `measure switch 10000000` would outlast the timeout.
    script = ["heap exercise 1000000", r"@when heap exercise 1000000\r\n @send \x03",
              "measure switch 10000000", r"@when measure switch 10000000\r\n @send \x03",
              "cpus", "poweroff"]
    status, output = boot(build, accel, script, "--smp", "2", timeout=180)
    heap = command_output(output, "heap exercise 1000000")
    match = re.search(r"heap exercise: (\d+) allocate\+free pairs on cpu \d+.*\ninterrupted\n", heap, re.DOTALL)
    expect(match is not None, f"heap exercise was not interrupted:\n{heap}")
    expect(int(match.group(1)) < 1000000, f"heap exercise ran to its end:\n{heap}")
    expect_text(command_output(output, "measure switch 10000000"), "interrupted\n")
    expect_text(command_output(output, "cpus"), "2 of 2 CPUs online")
    expect_clean_power_off(status, output)


def scenario_no_acpi(build: Path, accel: str) -> None:
    # Without ACPI there is no S5 state: the nucleus says so and halts, so the run ends
    # when that message has been seen rather than at power-off.
    status, output = boot(build, accel, ["cpus", "poweroff"], "--no-acpi", "--smp", "2",
                          "--wait-for", "halting instead")
    expect(status == 0, f"the run should end once the halt message appears, got {status}")
    expect_text(output, "acpi: firmware gave no RSDP")
    expect_text(output, "against pit")
    expect_text(output, "1 of 1 CPUs online")
    expect_text(output, "poweroff: firmware describes no ACPI S5 state; halting instead")


# --- Live evolution (docs/evolution.md) -------------------------------------------------
# Each swap goes to the other version of the module: <name>-v2.umod (a changed state
# schema; initramfs/README.md) and back to <name>.umod, in a bundle of the default
# manifest plus both versions and any extra files a scenario needs.
DEFAULT_BUNDLE_MANIFEST = (HERE.parent.parent / "initramfs" / "default" / "manifest.txt").read_text()


def evolution_bundle(build: Path, extra: dict[str, bytes] | None = None) -> bytes:
    files = {f"{name}.umod": module_bytes(build, name)
             for name in ("serial_console", "console_service", "shell", "kernel_heap", "scheduler", "workload")}
    for name in ("scheduler", "kernel_heap", "serial_console", "console_service"):
        files[f"{name}-v2.umod"] = module_bytes(build, f"{name}-v2")
    files.update(extra or {})
    return bundle_with(build, DEFAULT_BUNDLE_MANIFEST, files)


def boot_evolution(build: Path, accel: str, script: list[str], smp: int,
                   extra: dict[str, bytes] | None = None, timeout: int = 540,
                   options: tuple[str, ...] = ()) -> tuple[int, str]:
    with tempfile.NamedTemporaryFile(suffix=".cpio") as handle:
        handle.write(evolution_bundle(build, extra))
        handle.flush()
        return boot(build, accel, script, "--bundle", handle.name, "--smp", str(smp), *options,
                    timeout=timeout)


def command_output(output: str, command: str, occurrence: int = 0) -> str:
    # The nucleus may log a line between the prompt and the echo of the command typed at it
    # (a restart's "containment: ..." line, a module's "[ N us] ..." one).
    logged = r"(?:(?:[a-z_]+: |\[ *\d+ us\] )[^\n]*\n)*"
    sections = re.split(f"umka> {logged}{re.escape(command)}\n", output)
    expect(len(sections) > occurrence + 1, f"'{command}' did not run {occurrence + 1} time(s)")
    return sections[occurrence + 1].split("umka>")[0]


def expect_swapped(section: str, service: str, file: str) -> None:
    expect(f"evolve {service} -> {file}" in section, f"no evolve report for {service} -> {file}")
    expect(re.search(r"^evolve: swapped(, old image parked)? \(log entry \d+\)$", section, re.MULTILINE)
           is not None, f"{service} -> {file} did not swap:\n{section}")
    expect(re.search(r"swap\s+pause \d+\.\d us \(state transfer \d+\.\d us", section) is not None,
           "the swap did not report its pause")


def expect_history(output: str, outcomes: list[str]) -> None:
    table = command_output(output, "history")
    rows = re.findall(r"^\s*\d+\s+\d+\s+\S+\s+\S+\s+\d+ -> \d+\s+(.+?)\s{2,}[0-9a-f]{8}", table, re.MULTILINE)
    # A swap that kept the old image parked (some context may still run it) is a swap.
    rows = ["swapped" if row == "swapped, old image parked" else row for row in rows]
    expect(rows == outcomes, f"history outcomes {rows}, expected {outcomes}")
    expect(re.search(r"history: \d+ entries .*hash chain valid", table) is not None, "the log chain is not valid")


def scenario_evolve_scheduler(build: Path, accel: str, image: str = "nucleus") -> None:
    script = ["load start cpu 16", "wait 300", "load stats", "threads",
              "evolve scheduler scheduler-v2.umod", "threads", "wait 300", "load stats",
              "evolve --allow-downgrade scheduler scheduler.umod", "wait 300", "load stats", "threads",
              "history", "mods", "load stop", "poweroff"]
    status, output = boot_evolution(build, accel, script, smp=4, options=("--image", image))
    checked = "locks: order and owners checked on every acquisition" in output
    expect(checked == (image == "nucleus-checked"),
           f"{image} should {'' if image == 'nucleus-checked' else 'not '}check the lock order")
    to_b = command_output(output, "evolve scheduler scheduler-v2.umod")
    # Back to the boot version: module version 3 -> 2, a downgrade (allowed, marked).
    to_a = command_output(output, "evolve --allow-downgrade scheduler scheduler.umod")
    expect_text(to_a, "evolve: a downgrade (module version 3 -> 2), allowed by --allow-downgrade")
    for section, file in ((to_b, "scheduler-v2.umod"), (to_a, "scheduler.umod")):
        expect_swapped(section, "scheduler", file)
        # Per-task state migrated and compared task by task inside the pause.
        # 16 load threads, the console and the console's ring provider thread at least.
        checked = re.search(r"scheduler: task state v(\d+) -> v(\d+), (\d+) tasks and 4 run queues migrated "
                            r"and checked identical", section)
        expect(checked is not None and int(checked[3]) >= 18,
               f"the per-task state check did not cover every task:\n{section}")
        expect((checked[1], checked[2]) == (("1", "2") if file == "scheduler-v2.umod" else ("2", "1")),
               f"the task state schema did not change v1 -> v2 -> v1:\n{section}")
    samples = [load_counters(command_output(output, "load stats", index))[0] for index in range(3)]
    expect(all(len(sample) == 16 for sample in samples), "load stats lists 16 threads each time")
    for before, after in zip(samples, samples[1:]):
        stalled = [index for index in range(16) if after[index] <= before[index]]
        expect(not stalled, f"threads {stalled} made no progress across a swap")
    after_swaps = command_output(output, "threads", 2)
    expect(len(re.findall(r"^\s+\d+\s+cpu-load-\d+\s+\d+\s+(running|runnable)", after_swaps, re.MULTILINE)) == 16,
           "16 load threads should still be runnable or running on the swapped-back policy")
    expect_history(output, ["swapped", "swapped"])
    expect(re.search(r"^\s+\d+\s+\d+\s+scheduler\s+scheduler\.umod\s+3 -> 2 .*  downgrade$",
                     command_output(output, "history"), re.MULTILINE) is not None,
           "the log does not mark the downgrade")
    expect(re.search(r"^scheduler\s+2\s+0 direct", command_output(output, "mods"), re.MULTILINE) is not None,
           "the scheduler module is not listed as loaded after the swaps")
    expect_text(output, "load: stopped 16 threads")
    expect_clean_power_off(status, output)


def heap_totals(table: str) -> tuple[int, int, int]:
    classes = re.findall(r"^\s*\d+\s+\d+\s+\d+\s+\d+\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+$", table, re.MULTILINE)
    expect(classes, "the heap table has no size classes")
    return (sum(int(row[0]) for row in classes), sum(int(row[1]) for row in classes),
            sum(int(row[2]) for row in classes))


def nucleus_heap_share(table: str) -> tuple[int, int, int]:
    """The nucleus's own objects in the heap (mm/object_memory.cpp): class allocations,
    class frees, large allocations live."""
    share = re.search(r"^nucleus objects: (\d+) class allocations, (\d+) class frees, (\d+) large live$",
                      table, re.MULTILINE)
    expect(share is not None, "heap does not show the nucleus's share")
    return int(share[1]), int(share[2]), int(share[3])


def expect_heap_accounts_for(output: str, threads: int) -> None:
    """The heap's books against the churn threads' own counts: each thread counts one
    allocate+free pair per round, sizes 16, 48, 130, 512, 1500, 5000 in turn, and 5000 is a
    large (page) allocation outside the size classes. Any lost or duplicated operation shows."""
    stopped = re.search(r"load: heap-load\d+ stopped: .*", output)
    expect(stopped is None, f"a churn thread hit a heap failure: {stopped.group(0) if stopped else ''}")
    before_table, after_table = command_output(output, "heap", 0), command_output(output, "heap", 1)
    nucleus_before, nucleus_frees_before, _ = nucleus_heap_share(before_table)
    nucleus_after, nucleus_frees_after, nucleus_large = nucleus_heap_share(after_table)
    allocations_before, frees_before, _ = heap_totals(before_table)
    allocations_after, frees_after, live_after = heap_totals(after_table)
    # The nucleus allocates too (the load's counters, ring bindings): its share is set apart.
    allocations_before += nucleus_after - nucleus_before
    frees_before += nucleus_frees_after - nucleus_frees_before
    live_after -= nucleus_after - nucleus_frees_after
    counters, _ = load_counters(command_output(output, "load stats", 0))
    expect(len(counters) == threads and all(count > 0 for count in counters), f"churn counters {counters}")
    small = sum(count - count // 6 for count in counters)
    expect(allocations_after - allocations_before == small,
           f"the heap served {allocations_after - allocations_before} class allocations, "
           f"the load accounts for {small}")
    expect(frees_after - frees_before == small, "frees do not match the load's count")
    expect(live_after == 0, f"{live_after} objects still live after the load stopped")
    expect(re.search(rf"^large: {nucleus_large} live", after_table, re.MULTILINE) is not None,
           "large allocations other than the nucleus's still live after the load stopped")


def scenario_evolve_heap(build: Path, accel: str) -> None:
    script = ["heap", "load start alloc 8", "wait 300",
              "evolve kernel_heap kernel_heap-v2.umod", "wait 300",
              "evolve --allow-downgrade kernel_heap kernel_heap.umod", "wait 300",
              "load stop", "load stats", "heap", "history", "poweroff"]
    status, output = boot_evolution(build, accel, script, smp=4)
    for command, file in (("evolve kernel_heap kernel_heap-v2.umod", "kernel_heap-v2.umod"),
                          ("evolve --allow-downgrade kernel_heap kernel_heap.umod", "kernel_heap.umod")):
        section = command_output(output, command)
        expect_swapped(section, "kernel_heap", file)
        handed = re.search(r"(\d+) memory region\(s\) handed over", section)
        expect(handed is not None and int(handed.group(1)) > 0,
               "the heap's memory regions were not handed to the new instance")
    expect_text(output, "load: stopped 8 threads")
    expect_heap_accounts_for(output, 8)
    expect_history(output, ["swapped", "swapped"])
    expect_clean_power_off(status, output)


def scenario_evolve_cycle(build: Path, accel: str) -> None:
    """100 A -> B -> A cycles (200 swaps) of the heap, then 50 of the scheduler, through
    evolution.EvolutionControl while 4 threads churn allocations on 2 CPUs; then the books
    must balance exactly and every thread must still be there to stop."""
    # Each swap back is a downgrade (module version 2 -> 1, 3 -> 2): allowed by the flag. The
    # scheduler's cycle names the running file first: it starts with the other one (no
    # A -> A swap) and ends where it began.
    heap_cycle = "evolve --allow-downgrade cycle kernel_heap kernel_heap-v2.umod kernel_heap.umod 100"
    scheduler_cycle = "evolve --allow-downgrade cycle scheduler scheduler.umod scheduler-v2.umod 50"
    script = ["heap", "load start alloc 4", "wait 200", heap_cycle, scheduler_cycle,
              "load stop", "load stats", "heap", "history", "mods", "poweroff"]
    status, output = boot_evolution(build, accel, script, smp=2, timeout=1500)
    for command, service, swaps in ((heap_cycle, "kernel_heap", 200), (scheduler_cycle, "scheduler", 100)):
        cycle = command_output(output, command)
        expect(re.search(rf"evolve cycle: {swaps} of {swaps} swaps of {service} done", cycle) is not None,
               f"not every swap of the cycle went through:\n{cycle}")
        for row in ("pause", "state transfer", "gathering", "whole swap"):
            expect(re.search(rf"^\s+{row}\s+min \d+\.\d us\s+median \d+\.\d us\s+max \d+\.\d us$",
                             cycle, re.MULTILINE) is not None, f"no {row} statistics for {service}")
    expect_text(output, "load: stopped 4 threads")
    expect_heap_accounts_for(output, 4)
    table = command_output(output, "history")
    expect(re.search(r"history: 300 entries .*hash chain valid", table) is not None,
           "the log does not hold 300 valid entries")
    expect(re.search(r"^\s+300\s+\d+\s+scheduler\s+scheduler\.umod\s+3 -> 2\s+swapped", table, re.MULTILINE)
           is not None, "the scheduler's cycle did not end on the file it started from")
    expect(re.search(r"^scheduler\s+2\s+0 direct", command_output(output, "mods"), re.MULTILINE) is not None,
           "the scheduler's boot version does not run after its cycle")
    expect_clean_power_off(status, output)


def signed(build: Path, elf: bytes) -> bytes:
    """`elf` signed with the build's key, as a module with a bad ELF or manifest would be
    (--unchecked: umka-sign refuses to sign what the loader refuses, and that refusal at
    load time is what these scenarios test)."""
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "module.elf"
        source.write_bytes(elf)
        output = Path(directory) / "module.umod"
        subprocess.run([str(build / "initramfs" / "tools" / "umka-sign"), "sign", "--secret",
                        str(build / "keys" / "module-signing.secret"), "--output", str(output),
                        "--unchecked", str(source)], check=True, capture_output=True)
        return output.read_bytes()


def signed_fixture(build: Path, name: str) -> bytes:
    return signed(build, (build / "test" / "module-fixtures" / f"{name}.so").read_bytes())


def with_provided_version(elf: bytes, package: str, name: str, version: int) -> bytes:
    """The module with the version of its `provides package.name` manifest entry changed
    (the entry is two 48-byte NUL-padded names, then the version)."""
    key = package.encode().ljust(48, b"\0") + name.encode().ljust(48, b"\0")
    offset = elf.find(key)
    expect(offset >= 0 and elf.find(key, offset + 1) < 0, f"one manifest entry {package}.{name}")
    patched = bytearray(elf)
    patched[offset + 96:offset + 100] = version.to_bytes(4, "little")
    return bytes(patched)


def scenario_evolve_refusals(build: Path, accel: str) -> None:
    scheduler = module_bytes(build, "scheduler")
    tampered = bytearray(scheduler)
    tampered[len(tampered) // 2] ^= 0x40
    extra = {"scheduler-unsigned.umod": scheduler[:-80], "scheduler-tampered.umod": bytes(tampered),
             "scheduler-writable.umod": signed_fixture(build, "writable_data_module"),
             "scheduler-refuses-state.umod": module_bytes(build, "scheduler-refuses-state"),
             "scheduler-older.umod": signed(build, with_provided_version(
                 (build / "modules" / "scheduler.elf").read_bytes(), "scheduler_policy", "SchedulerPolicy", 1))}
    script = ["evolve scheduler kernel_heap.umod", "evolve scheduler scheduler-unsigned.umod",
              "evolve scheduler scheduler-tampered.umod", "evolve scheduler scheduler-writable.umod",
              "evolve scheduler scheduler-older.umod", "evolve scheduler scheduler-refuses-state.umod",
              "evolve scheduler missing.umod",
              "evolve nosuchmodule scheduler.umod",
              "evolve scheduler", "evolve --dry-run scheduler scheduler-v2.umod",
              "threads", "evolve scheduler scheduler-v2.umod", "evolve scheduler scheduler.umod",
              "evolve cycle scheduler", "evolve cycle scheduler scheduler-v2.umod scheduler.umod 5001",
              "evolve cycle scheduler a.umod b.umod 1", "history", "poweroff"]
    status, output = boot_evolution(build, accel, script, smp=2, extra=extra)
    refusals = {
        "evolve scheduler kernel_heap.umod": r"refused in prepare: 'kernel_heap' does not provide "
                                             r"scheduler_policy\.SchedulerPolicy",
        "evolve scheduler scheduler-unsigned.umod": r"refused in prepare: signature check of "
                                                    r"'scheduler-unsigned\.umod' failed: module is unsigned",
        "evolve scheduler scheduler-tampered.umod": r"refused in prepare: signature check of "
                                                    r"'scheduler-tampered\.umod' failed",
        "evolve scheduler scheduler-writable.umod": r"refused in prepare: 'scheduler-writable\.umod'.*writ",
        "evolve scheduler scheduler-older.umod": r"refused in prepare: 'scheduler' provides "
                                                 r"scheduler_policy\.SchedulerPolicy version 1 but its consumers "
                                                 r"need >= 2",
        "evolve scheduler scheduler-refuses-state.umod": r"refused in validate: 'scheduler' refused state "
                                                         r"'SchedulerGlobals' \(version 1 -> 1\) in the build before the pause: EPROTO",
        "evolve scheduler missing.umod": r"refused in prepare: 'missing\.umod' is not a file of the boot bundle",
        "evolve nosuchmodule scheduler.umod": r"refused in prepare: no running module is named 'nosuchmodule'",
    }
    for command, pattern in refusals.items():
        section = command_output(output, command)
        expect(re.search(pattern, section) is not None, f"{command}: no refusal matching {pattern!r}:\n{section}")
        unchanged = "nothing changed" if "nosuchmodule" in command else "still serving"
        expect(unchanged in section, f"{command}: the refusal does not say '{unchanged}'")
    expect_text(command_output(output, "evolve scheduler"), "usage: evolve")
    expect_text(command_output(output, "evolve --dry-run scheduler scheduler-v2.umod"), "evolve: dry run passed")
    # The old policy still schedules after every refusal, and a real swap still works.
    expect(re.search(r"^\s+0\s+console\s+0\s+running", command_output(output, "threads"), re.MULTILINE)
           is not None, "the console thread is not running after the refusals")
    expect_swapped(command_output(output, "evolve scheduler scheduler-v2.umod"), "scheduler", "scheduler-v2.umod")
    # A downgrade (module version 3 -> 2) without --allow-downgrade is refused and logged.
    downgrade = command_output(output, "evolve scheduler scheduler.umod")
    expect(re.search(r"refused in prepare: module version 2 is below the running version 3: a downgrade "
                     r"needs --allow-downgrade \(EPERM\); 'scheduler': still serving", downgrade) is not None,
           f"the downgrade was not refused:\n{downgrade}")
    # `cycle` is a keyword: too few words is a usage error, not a service named "cycle".
    expect_text(command_output(output, "evolve cycle scheduler"), "usage: evolve")
    expect_text(command_output(output, "evolve cycle scheduler scheduler-v2.umod scheduler.umod 5001"),
                "evolve cycle: the count must be 1..5000")
    expect_text(command_output(output, "evolve cycle scheduler a.umod b.umod 1"),
                "evolve cycle: no running 'scheduler' was loaded from a.umod or b.umod")
    expect_history(output, ["refused"] * 8 + ["dry run passed", "swapped", "refused"])
    expect_clean_power_off(status, output)


def scenario_evolve_serial(build: Path, accel: str) -> None:
    script = ["evolve serial_console serial_console-v2.umod", "mods",
              "evolve --allow-downgrade serial_console serial_console.umod", "history", "poweroff"]
    status, output = boot_evolution(build, accel, script, smp=2)
    expect_swapped(command_output(output, "evolve serial_console serial_console-v2.umod"), "serial_console",
                   "serial_console-v2.umod")
    expect(re.search(r"^serial_console\s+2\s+0 direct", command_output(output, "mods"), re.MULTILINE)
           is not None, "serial_console version 2 is not the loaded driver after the swap")
    expect_swapped(command_output(output, "evolve --allow-downgrade serial_console serial_console.umod"),
                   "serial_console", "serial_console.umod")
    expect_history(output, ["swapped", "swapped"])
    expect_clean_power_off(status, output)


def scenario_evolve_console(build: Path, accel: str) -> None:
    # The console swaps itself, from its own prompt, to version 2 and back, and serves
    # between and after; its line editor refuses what a hostile user types on the way.
    overlong = "evolve scheduler scheduler-v2.umod" + " " * 300 + "junk"
    # The Ctrl-C line comes last: its "^C" and new prompt let the runner type the next line
    # while `cpus` runs, so only `poweroff` is typed ahead.
    script = ["threads\x1b", overlong, "evolve console_service console_service-v2.umod", "mods",
              "evolve --allow-downgrade console_service console_service.umod", "services", "history", "typed\x03cpus",
              "poweroff"]
    status, output = boot_evolution(build, accel, script, smp=2)
    # Ctrl-C at the prompt discarded "typed"; the line after it ran.
    expect_text(output, "umka> typed^C\numka> cpus\n")
    expect("typed" not in output.split("umka> typed^C", 1)[1].split("umka> cpus", 1)[0],
           "the line discarded by Ctrl-C left text behind")
    expect("typed: unknown command" not in output, "the line discarded by Ctrl-C ran")
    # The over-long line was refused whole: nothing ran (history holds the console swaps only).
    expect_text(output, "line too long (over 256 bytes): refused, nothing run")
    # Esc then Enter is Enter.
    expect(re.search(r"^\s+0\s+console\s+0\s+running", command_output(output, "threads"), re.MULTILINE)
           is not None, "'threads' typed before Esc and Enter did not run")
    expect_swapped(command_output(output, "evolve console_service console_service-v2.umod"), "console_service",
                   "console_service-v2.umod")
    expect(re.search(r"^console_service\s+2\s", command_output(output, "mods"), re.MULTILINE) is not None,
           "console_service version 2 is not the console serving after its own swap")
    expect_swapped(command_output(output, "evolve --allow-downgrade console_service console_service.umod"), "console_service",
                   "console_service.umod")
    expect(re.search(r"console_service", command_output(output, "services")) is not None,
           "the console swapped back does not serve 'services'")
    expect_history(output, ["swapped", "swapped"])
    expect_text(output, "umka> poweroff")
    expect_clean_power_off(status, output)


def scenario_evolve_serial_queued(build: Path, accel: str) -> None:
    # Two threads keep 8 writes of 32 '~' each queued on their own ring bindings to the
    # driver while it is swapped there and back, twice. Every '~' on the console came from
    # them (nothing else prints one), so the count on the console must equal the bytes the
    # driver reported to the writers: none lost, none written twice. Whether a request is
    # still queued as a pause ends is timing (the provider may have just drained its ring):
    # four pauses make it all but certain that one finds some.
    marker = "~"
    there_and_back = ["evolve serial_console serial_console-v2.umod", "wait 400",
                      "evolve --allow-downgrade serial_console serial_console.umod", "wait 400"]
    script = ["load start serial 2", "wait 400"] + 2 * there_and_back + ["load stop", "rings", "history",
                                                                         "poweroff"]
    status, raw = boot_evolution(build, accel, script, smp=4, options=("--interleaved-byte", marker))
    expect(raw.count(marker) > 0, "the serial writers wrote no marker byte")
    output = raw.replace(marker, "")
    queued = []
    for command, file, occurrence in (
            ("evolve serial_console serial_console-v2.umod", "serial_console-v2.umod", 0),
            ("evolve --allow-downgrade serial_console serial_console.umod", "serial_console.umod", 0),
            ("evolve serial_console serial_console-v2.umod", "serial_console-v2.umod", 1),
            ("evolve --allow-downgrade serial_console serial_console.umod", "serial_console.umod", 1)):
        section = command_output(output, command, occurrence)
        expect_swapped(section, "serial_console", file)
        found = re.search(r"^\s*rings\s+(\d+) ring request\(s\) outstanding as the pause ended, served by "
                          r"the new module$", section, re.MULTILINE)
        expect(found is not None, f"the swap to {file} did not report the queued ring requests:\n{section}")
        queued.append(int(found[1]))
    expect(max(queued) > 0, f"no ring request was queued across any of the pauses ({queued})")
    stopped = command_output(output, "load stop")
    expect(re.search(r"load: stopped 2 threads, closed 2 ring bindings", stopped) is not None,
           f"the serial writers did not stop cleanly:\n{stopped}")
    expect("stopped:" not in stopped, f"a serial writer stopped on an error:\n{stopped}")
    total = re.search(r"^load: (\d+) marker bytes \(0x7e\) written by 2 serial writers$", stopped, re.MULTILINE)
    expect(total is not None, f"no marker total after 'load stop':\n{stopped}")
    # Markers after the total would be writes nobody accounted for.
    expect(raw.count(marker) == int(total[1]),
           f"{raw.count(marker)} marker bytes on the console, the writers account for {total[1]}")
    expect(re.search(r"^serial-load-0[01]\s+->", command_output(output, "rings"), re.MULTILINE) is None,
           "the writers' ring bindings are still listed after 'load stop'")
    expect_history(output, ["swapped"] * 4)
    expect_clean_power_off(status, output)


SCENARIOS = {
    "multiboot-smp1": lambda build, accel: scenario_boot(build, accel, 1, False),
    "multiboot-smp4": lambda build, accel: scenario_boot(build, accel, 4, False),
    "uefi-smp1": lambda build, accel: scenario_boot(build, accel, 1, True),
    "uefi-smp4": lambda build, accel: scenario_boot(build, accel, 4, True),
    "rendezvous": scenario_rendezvous,
    "fault-report": scenario_fault,
    "bad-input": scenario_bad_input,
    "bad-manifest": scenario_bad_manifest,
    "no-acpi": scenario_no_acpi,
    "modules": scenario_modules,
    "threads": scenario_threads,
    "thread-services": scenario_thread_services,
    "ring-console": scenario_ring_console,
    "direct-console": scenario_direct_console,
    "ring-load": scenario_ring_load,
    "ring-fallback": scenario_ring_fallback,
    "thread-api": scenario_thread_api,
    "thread-slots": scenario_thread_slots,
    "workload-limits": scenario_workload_limits,
    "q35": scenario_q35,
    "pci": scenario_pci,
    "blk": scenario_blk,
    "blk-pc": lambda build, accel: scenario_blk(build, accel, "pc"),
    "files": scenario_files,
    "files-differential": scenario_files_differential,
    "ext2-1k": lambda build, accel: ext2_scenario.run(sys.modules[__name__], build, accel, 1024),
    "ext2-4k": lambda build, accel: ext2_scenario.run(sys.modules[__name__], build, accel, 4096),
    "ext2-read-only": lambda build, accel: ext2_scenario.run_read_only(sys.modules[__name__], build, accel),
    "ext2-swap": lambda build, accel: ext2_scenario.run_swap(sys.modules[__name__], build, accel),
    "edu": scenario_edu,
    "crash-recovery": lambda build, accel: crash_scenario.run_recovery(sys.modules[__name__], build, accel),
    "crash-failed": lambda build, accel: crash_scenario.run_failed(sys.modules[__name__], build, accel),
    "crash-watchdog": lambda build, accel: crash_scenario.run_watchdog(sys.modules[__name__], build, accel),
    "crash-stack": lambda build, accel: crash_scenario.run_stack_overflow(sys.modules[__name__], build, accel),
    "crash-fresh-state": lambda build, accel: crash_scenario.run_fresh_state(sys.modules[__name__], build, accel),
    "crash-every-start": lambda build, accel: crash_scenario.run_every_start(sys.modules[__name__], build, accel),
    "crash-every-start-evolve": lambda build, accel: crash_scenario.run_every_start_evolve(sys.modules[__name__], build, accel),
    "crash-wild": lambda build, accel: crash_scenario.run_wild(sys.modules[__name__], build, accel),
    "crash-no-domains": lambda build, accel: crash_scenario.run_no_domains(sys.modules[__name__], build, accel),
    "crash-thread": lambda build, accel: crash_scenario.run_thread(sys.modules[__name__], build, accel),
    "crash-handler": lambda build, accel: crash_scenario.run_handler(sys.modules[__name__], build, accel),
    "crash-boot-start": lambda build, accel: crash_scenario.run_boot_start(sys.modules[__name__], build, accel),
    "crash-disk": lambda build, accel: crash_scenario.run_disk_in_flight(sys.modules[__name__], build, accel),
    "crash-direct": lambda build, accel: crash_scenario.run_direct_call(sys.modules[__name__], build, accel),
    "dma": scenario_dma,
    "console-interrupt": scenario_console_interrupt,
    "module-tampered": scenario_module_tampered,
    "module-unsigned": scenario_module_unsigned,
    "module-cycle": scenario_module_cycle,
    "evolution-bundle": scenario_evolution_bundle,
    "evolve-scheduler": scenario_evolve_scheduler,
    # The debug kernel (lock order and owners checked, docs/nucleus.md): 16 threads on 4
    # CPUs, work stealing, wait queues and two live swaps of the scheduler policy.
    "evolve-scheduler-checked": lambda build, accel: scenario_evolve_scheduler(build, accel, "nucleus-checked"),
    "evolve-heap": scenario_evolve_heap,
    "evolve-cycle": scenario_evolve_cycle,
    "evolve-refusals": scenario_evolve_refusals,
    "evolve-serial": scenario_evolve_serial,
    "evolve-console": scenario_evolve_console,
    "evolve-serial-queued": scenario_evolve_serial_queued,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, type=Path)
    parser.add_argument("--accel", required=True, choices=("kvm", "tcg"))
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    arguments = parser.parse_args()
    try:
        SCENARIOS[arguments.scenario](arguments.build, arguments.accel)
    except Failure as failure:
        print(f"\nFAILED {arguments.scenario} ({arguments.accel}): {failure}")
        return 1
    print(f"\nPASSED {arguments.scenario} ({arguments.accel})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
