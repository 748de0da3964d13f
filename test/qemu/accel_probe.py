#!/usr/bin/env python3
"""Chooses the QEMU accelerator by trying it, not by looking at /dev/kvm's permissions.

A writable /dev/kvm does not mean KVM works: under nested KVM, QEMU can abort while
setting up the vCPU ("failed to set MSR 0x10a to 0x69", then an assertion in
kvm_buf_set_msrs), OVMF can stop in an emulation failure, or every exit can cost
milliseconds so a guest runs orders of magnitude slower than under TCG. So when /dev/kvm
is accessible this module boots the build's nucleus to `poweroff` under KVM, through
umka_qemu.py with exactly the options every boot uses (KVM_CPU_MODEL included), times
it, and times the same boot under TCG. KVM is chosen only if its boot powered off and
took no longer than SLOWDOWN_LIMIT times the TCG boot.

The verdict is cached as JSON in the build directory (accel-probe.json) together with a
key of everything it depends on (see probe_key); a cached verdict is used only while the
key matches, and a cache file that does not parse is reported and ignored, never trusted.

    accel_probe.py probe --build DIR [--again]    print the verdict (probing if needed)
    accel_probe.py device                         exit 0 when /dev/kvm is accessible
                                                  (UMKA_KVM_DEVICE overrides the path)
    accel_probe.py gate --build DIR [--uefi] [--bare-metal] -- COMMAND...
        run COMMAND only where the verdict allows KVM for it; else print why and exit
        SKIP_EXIT_STATUS (ctest's SKIP_RETURN_CODE for the KVM scenarios)

The decision itself (decide, Verdict.from_record, cached_verdict) is plain functions of
their inputs, so accel_probe_test.py tests it without KVM.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "umka_qemu.py"
sys.path.insert(0, str(HERE))
import esp_image  # noqa: E402

QEMU = "qemu-system-x86_64"
# UMKA_KVM_DEVICE names another file to treat as the KVM device (QEMU itself still opens
# /dev/kvm): on a host without KVM, a plain file there makes the probe, `--accel kvm` and
# the KVM test registration take the "device present but KVM broken" path for real.
KVM_DEVICE = Path(os.environ.get("UMKA_KVM_DEVICE", "/dev/kvm"))
CACHE_FILE_NAME = "accel-probe.json"
# Bumped whenever the record's layout or the meaning of a field changes.
CACHE_FORMAT = 1

# The CPU model each accelerator boots with; umka_qemu.py takes it from here, so the
# probe and every boot use the same one.
#
# Under KVM, `host` and `max` both pass the host CPU through, and with it features whose
# MSRs QEMU then writes at vCPU reset: IA32_ARCH_CAPABILITIES (MSR 0x10a, the abort seen
# on nested hosts), the PMU's (0x38d, 0x345, enabled by default only for host/max) and,
# with vmx passed through, the VMX capability MSRs (0x48x). An L1 hypervisor may refuse
# any of them, and QEMU asserts instead of starting. kvm64 is QEMU's baseline model for
# KVM: long mode, NX, TSC, local APIC and SSE2, no PMU, no vmx/svm, no arch-capabilities,
# so none of those MSRs is written; QEMU still gives it the host's vendor string under
# KVM. That is all the nucleus uses: it is built for baseline x86-64 (no -march), checks
# CPUID only for NX (boot_entry.S), reads the TSC with rdtsc and calibrates it against the
# ACPI PM timer (no invariant-TSC or leaf 0x15 dependency), and drives the local APIC in
# xAPIC (MMIO) mode, so no x2APIC, rdtscp, PCID or PKS. TCG keeps `max` (every feature
# TCG emulates; the performance figures in docs/performance.md were measured with it).
KVM_CPU_MODEL = "kvm64"
TCG_CPU_MODEL = "max"
CPU_MODELS = {"kvm": KVM_CPU_MODEL, "tcg": TCG_CPU_MODEL}

# KVM is used only if its probe boot takes at most this many times the TCG boot. On bare
# metal a boot to poweroff is several times faster under KVM; nested KVM that works at
# all is slower than TCG (here 2.2 s from entry to prompt against 12 ms under TCG), and
# its thread workloads are slower still. 1.0 means "no slower than TCG": anything in
# between buys nothing and risks the nested slowdowns the boot does not show.
SLOWDOWN_LIMIT = 1.0
# A working KVM boots to poweroff in well under a second; a TCG boot in about one.
PROBE_TIMEOUT_SECONDS = 60.0
# ctest's SKIP_RETURN_CODE for the KVM scenarios (77, the automake convention).
SKIP_EXIT_STATUS = 77


class ProbeError(RuntimeError):
    """The probe itself could not run (no QEMU, no nucleus image, an unwritable cache)."""


@dataclasses.dataclass(frozen=True)
class DeviceAccess:
    accessible: bool
    reason: str  # why not, or "" when accessible


@dataclasses.dataclass(frozen=True)
class BootResult:
    succeeded: bool
    seconds: float
    detail: str = ""  # why it failed: QEMU's own error line when it printed one


@dataclasses.dataclass(frozen=True)
class Verdict:
    accelerator: str                 # "kvm" or "tcg": for Multiboot boots
    reason: str
    kvm_seconds: float | None        # the probe boot under KVM, when it powered off
    tcg_seconds: float | None        # the same boot under TCG, when it was run
    qemu_version: str
    cpu_model: str                   # the model the KVM probe booted with
    nested: bool                     # the host CPU reports a hypervisor: KVM is nested
    uefi_accelerator: str            # "kvm" only if OVMF also runs under KVM here
    uefi_reason: str
    key: dict

    def to_record(self) -> dict:
        return {"format": CACHE_FORMAT, **dataclasses.asdict(self)}

    @staticmethod
    def from_record(record: object) -> "Verdict":
        """The verdict a cache record holds; ValueError naming the first thing wrong."""
        if not isinstance(record, dict):
            raise ValueError("the record is not a JSON object")
        if record.get("format") != CACHE_FORMAT:
            raise ValueError(f"format {record.get('format')!r}, expected {CACHE_FORMAT}")
        expected_types = {
            "accelerator": str, "reason": str, "kvm_seconds": (float, int, type(None)),
            "tcg_seconds": (float, int, type(None)), "qemu_version": str, "cpu_model": str,
            "nested": bool, "uefi_accelerator": str, "uefi_reason": str, "key": dict,
        }
        for name, expected in expected_types.items():
            if name not in record:
                raise ValueError(f"the field {name!r} is missing")
            if not isinstance(record[name], expected):
                raise ValueError(f"the field {name!r} has the wrong type ({type(record[name]).__name__})")
        for name in ("accelerator", "uefi_accelerator"):
            if record[name] not in CPU_MODELS:
                raise ValueError(f"the field {name!r} is {record[name]!r}, not kvm or tcg")
        return Verdict(**{name: record[name] for name in expected_types})


def device_access(device: Path = KVM_DEVICE) -> DeviceAccess:
    if not device.exists():
        return DeviceAccess(False, f"{device} does not exist")
    if not os.access(device, os.R_OK | os.W_OK):
        return DeviceAccess(False, f"{device} is not readable and writable by this user")
    return DeviceAccess(True, "")


def decide(access: DeviceAccess, kvm_boot: BootResult | None,
           tcg_boot: BootResult | None) -> tuple[str, str]:
    """(accelerator, reason) from what the probe saw. kvm_boot is None only when the
    device was not accessible (nothing was booted); tcg_boot is None when the KVM boot
    already failed (no comparison needed)."""
    if not access.accessible:
        return "tcg", access.reason
    if kvm_boot is None:
        raise ValueError("an accessible /dev/kvm needs a KVM probe boot result")
    if not kvm_boot.succeeded:
        return "tcg", f"the probe boot under KVM failed: {kvm_boot.detail}"
    if tcg_boot is None or not tcg_boot.succeeded:
        # Nothing to compare with; KVM itself works, and a broken TCG boot is the build's
        # problem, reported by the TCG tests.
        why = tcg_boot.detail if tcg_boot is not None else "not run"
        return "kvm", (f"the probe boot took {kvm_boot.seconds:.2f} s under KVM; "
                       f"no TCG time to compare with ({why})")
    if kvm_boot.seconds > tcg_boot.seconds * SLOWDOWN_LIMIT:
        return "tcg", (f"nested/slow: the probe boot took {kvm_boot.seconds:.2f} s under KVM, "
                       f"{tcg_boot.seconds:.2f} s under TCG")
    return "kvm", (f"the probe boot took {kvm_boot.seconds:.2f} s under KVM, "
                   f"{tcg_boot.seconds:.2f} s under TCG")


def cached_verdict(record: object, key: dict) -> Verdict | None:
    """The cached verdict if the record is valid and was made for this key; None if it
    was made for another key. ValueError when the record is garbled."""
    verdict = Verdict.from_record(record)
    return verdict if verdict.key == key else None


def fallback_line(verdict: Verdict, uefi: bool = False) -> str | None:
    """The one line saying why a boot that could have used KVM does not, else None."""
    accelerator, reason = ((verdict.uefi_accelerator, verdict.uefi_reason) if uefi
                           else (verdict.accelerator, verdict.reason))
    if accelerator == "kvm":
        return None
    return f"umka: KVM unusable here ({reason}); using TCG"


def host_is_virtual(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the host CPU reports a hypervisor (CPUID.1:ECX[31]): its KVM is nested."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    return any(line.startswith("flags") and " hypervisor" in line for line in text.splitlines())


def qemu_version() -> str:
    try:
        result = subprocess.run([QEMU, "--version"], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise ProbeError(f"{QEMU} not found; install the Debian package qemu-system-x86") from None
    return result.stdout.splitlines()[0].strip() if result.stdout else f"unknown (status {result.returncode})"


def file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return "missing"


def probe_key(build: Path, device: Path = KVM_DEVICE) -> dict:
    """Everything a verdict depends on; a change to any of it means probing again."""
    try:
        status = device.stat()
        device_identity = {"rdev": status.st_rdev, "mode": status.st_mode, "uid": status.st_uid,
                           "gid": status.st_gid, "accessible": device_access(device).accessible}
    except FileNotFoundError:
        device_identity = "missing"
    try:
        ovmf_status = esp_image.OVMF_CODE.stat()
        ovmf = {"size": ovmf_status.st_size, "mtime_ns": ovmf_status.st_mtime_ns}
    except FileNotFoundError:
        ovmf = "missing"
    return {
        "kvm_device": device_identity,
        "host_kernel": platform.release(),  # the host's KVM is part of its kernel
        "qemu_version": qemu_version(),
        "nucleus_sha256": file_digest(build / "nucleus.bin"),
        "bundle_sha256": file_digest(build / "bundle.cpio"),
        "ovmf_code": ovmf,
        "cpu_model": KVM_CPU_MODEL,
        "slowdown_limit": SLOWDOWN_LIMIT,
    }


def qemu_error(output: str) -> str:
    """The line that says why a boot failed: QEMU's own message (prefixed with its program
    name), else umka_qemu.py's summary, else the last line."""
    lines = [line.strip() for line in output.replace("\r", "").splitlines() if line.strip()]
    for line in lines:
        if line.startswith(QEMU + ":"):
            return line
    for line in reversed(lines):
        if line.startswith("umka run:"):
            return line
    return lines[-1] if lines else "no output"


def boot_to_poweroff(build: Path, accelerator: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> BootResult:
    """Boots the build's nucleus and default bundle through umka_qemu.py (the path every
    boot takes) with the console line `poweroff`, and times it."""
    for needed in ("nucleus.bin", "bundle.cpio"):
        if not (build / needed).is_file():
            raise ProbeError(f"nothing to probe with: {build / needed} is missing (build first)")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="umka-probe-") as script:
        script.write("poweroff\n")
        script.flush()
        command = [sys.executable, str(RUNNER), "--build", str(build), "--accel", accelerator,
                   "--script", script.name, "--timeout", str(timeout)]
        started = time.monotonic()
        try:
            result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    errors="replace", timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            # umka_qemu.py ends the boot itself at `timeout`; this only catches a hung runner.
            return BootResult(False, time.monotonic() - started,
                              f"the boot did not end within {timeout + 30:.0f} s")
        seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    if result.returncode == 0 and "poweroff: entering ACPI S5" in output:
        return BootResult(True, seconds)
    return BootResult(False, seconds, qemu_error(output))


def probe(build: Path, device: Path = KVM_DEVICE,
          boot: Callable[[Path, str], BootResult] = boot_to_poweroff,
          ovmf_check: Callable[[str], tuple[bool, str]] | None = None,
          again: bool = False, notes: Callable[[str], None] | None = None) -> Verdict:
    """The verdict for this host and build: from the cache when its key matches, else by
    probing (and then cached). Without an accessible device nothing is booted or cached:
    that answer costs nothing to recompute."""
    notes = notes or (lambda text: print(text, file=sys.stderr))
    ovmf_check = ovmf_check or (lambda cpu_model: esp_image.ovmf_runs_under_kvm(cpu_model))
    access = device_access(device)
    if not access.accessible:
        accelerator, reason = decide(access, None, None)
        return Verdict(accelerator, reason, None, None, "", KVM_CPU_MODEL, host_is_virtual(),
                       "tcg", reason, {})
    key = probe_key(build, device)
    cache = build / CACHE_FILE_NAME
    if not again and cache.exists():
        try:
            verdict = cached_verdict(json.loads(cache.read_text()), key)
        except (ValueError, OSError) as error:  # json.JSONDecodeError is a ValueError
            notes(f"umka: ignoring the accelerator probe cache {cache}: {error}; probing again")
            verdict = None
        if verdict is not None:
            return verdict
    kvm_boot = boot(build, "kvm")
    tcg_boot = boot(build, "tcg") if kvm_boot.succeeded else None
    accelerator, reason = decide(access, kvm_boot, tcg_boot)
    if accelerator != "kvm":
        uefi_accelerator, uefi_reason = "tcg", reason
    elif not esp_image.OVMF_CODE.is_file():
        uefi_accelerator, uefi_reason = "tcg", f"OVMF is not installed ({esp_image.OVMF_CODE})"
    else:
        runs, why = ovmf_check(KVM_CPU_MODEL)
        uefi_accelerator, uefi_reason = ("kvm", reason) if runs else ("tcg", f"OVMF fails under KVM: {why}")
    verdict = Verdict(accelerator, reason,
                      kvm_boot.seconds if kvm_boot.succeeded else None,
                      tcg_boot.seconds if tcg_boot is not None and tcg_boot.succeeded else None,
                      key["qemu_version"], KVM_CPU_MODEL, host_is_virtual(),
                      uefi_accelerator, uefi_reason, key)
    write_cache(cache, verdict)
    return verdict


def write_cache(cache: Path, verdict: Verdict) -> None:
    # Written beside the target and renamed: a concurrent reader sees the old or the new
    # record, never half of one.
    partial = cache.with_name(f"{cache.name}.{os.getpid()}.partial")
    try:
        partial.write_text(json.dumps(verdict.to_record(), indent=2) + "\n")
        os.replace(partial, cache)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise ProbeError(f"cannot write the accelerator probe cache {cache}: {error}") from None


def choose(build: Path, uefi: bool = False) -> str:
    """The accelerator a boot without --accel uses, printing one line when KVM is not it
    (umka_qemu.py and bench/run_benchmarks.py). A probe that cannot run means TCG."""
    try:
        verdict = probe(build)
    except ProbeError as error:
        print(f"umka: KVM unusable here (the accelerator probe failed: {error}); using TCG", file=sys.stderr)
        return "tcg"
    line = fallback_line(verdict, uefi)
    if line is not None:
        print(line, file=sys.stderr)
    return verdict.uefi_accelerator if uefi else verdict.accelerator


def gate_reason(verdict: Verdict, uefi: bool, bare_metal: bool) -> str | None:
    """Why a KVM scenario must be skipped, or None when it may run."""
    if verdict.accelerator != "kvm":
        return verdict.reason
    if uefi and verdict.uefi_accelerator != "kvm":
        return verdict.uefi_reason
    if bare_metal and verdict.nested:
        # A guest with many spinning threads runs three orders of magnitude slower under
        # nested KVM than under TCG (every exit goes through the L1 hypervisor), though a
        # plain boot is fast enough to pass the probe.
        return "this host's KVM is nested (the CPU reports a hypervisor); thread-heavy scenarios need bare metal"
    return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    probe_command = commands.add_parser("probe", help="print the verdict, probing if the cache is stale")
    probe_command.add_argument("--build", required=True, type=Path)
    probe_command.add_argument("--again", action="store_true", help="ignore the cache")
    commands.add_parser("device", help="exit 0 when /dev/kvm is accessible, else print why")
    gate = commands.add_parser("gate", help="run a KVM scenario only where the verdict allows it")
    gate.add_argument("--build", required=True, type=Path)
    gate.add_argument("--uefi", action="store_true", help="the scenario boots OVMF")
    gate.add_argument("--bare-metal", action="store_true", help="the scenario needs non-nested KVM")
    gate.add_argument("scenario_command", nargs=argparse.REMAINDER, help="-- COMMAND...")
    arguments = parser.parse_args(argv)

    if arguments.command == "device":
        access = device_access()
        print("KVM device accessible" if access.accessible else access.reason)
        return 0 if access.accessible else 1
    try:
        verdict = probe(arguments.build, again=getattr(arguments, "again", False))
    except ProbeError as error:
        print(f"accel_probe: {error}", file=sys.stderr)
        return 2
    if arguments.command == "probe":
        print(json.dumps(verdict.to_record(), indent=2))
        return 0
    command = arguments.scenario_command[1:] if arguments.scenario_command[:1] == ["--"] \
        else arguments.scenario_command
    if not command:
        parser.error("gate: a command to run is required after --")
    reason = gate_reason(verdict, arguments.uefi, arguments.bare_metal)
    if reason is not None:
        print(f"skipped: KVM unusable for this scenario here ({reason})")
        return SKIP_EXIT_STATUS
    # Replaced, not spawned: ctest's timeout and signals reach the scenario itself.
    sys.stdout.flush()
    os.execvp(command[0], command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
