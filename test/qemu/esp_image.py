"""EFI system partition images and OVMF arguments for booting UmkaOS under QEMU via UEFI.

The image is a bare FAT filesystem (no partition table): OVMF's boot manager treats a
whole-disk FAT volume as removable media and runs \\EFI\\BOOT\\BOOTX64.EFI from it, which
is all the UEFI boot path needs. Only the standard library, mkfs.fat (dosfstools) and
mcopy/mmd (mtools) are used, so no root privileges or loop devices are involved.

    from esp_image import esp_drive_args, make_esp_image, ovmf_qemu_args
    make_esp_image("work/esp.img", "build/.../BOOTX64.EFI", "build/.../nucleus.elf",
                   bundle="build/bundle.cpio", cmdline="console=serial")
    args = ovmf_qemu_args("work") + esp_drive_args("work/esp.img")
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional, Union

PathLike = Union[str, os.PathLike]

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS_TEMPLATE = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")

MEBIBYTE = 1024 * 1024
# FAT16 tops out near 2 GiB with 32 KiB clusters; above 16 MiB it is well inside the
# cluster-count window mkfs.fat accepts, and FAT32 would need >= 32 MiB for nothing.
MINIMUM_IMAGE_MEBIBYTES = 16
FAT16_LIMIT_MEBIBYTES = 2000
# Directory entries, FAT copies and cluster rounding; generous because the image size
# costs nothing but sparse disk space.
OVERHEAD_BYTES = 4 * MEBIBYTE


class EspImageError(RuntimeError):
    """A missing input, a missing tool or a failed mkfs.fat/mtools step."""


def _require_file(path: PathLike, what: str) -> Path:
    resolved = Path(path)
    if not resolved.is_file():
        raise EspImageError(f"{what} not found: {resolved}")
    return resolved


def _require_tool(name: str, package: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        raise EspImageError(f"'{name}' not found; install the Debian package {package}")
    return found


def _run(command: list[str]) -> None:
    # mtools otherwise rejects FAT images whose geometry fields look unusual to it.
    environment = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    completed = subprocess.run(command, capture_output=True, text=True, env=environment)
    if completed.returncode != 0:
        raise EspImageError(
            f"command failed with status {completed.returncode}: {' '.join(command)}\n"
            f"{completed.stdout}{completed.stderr}".rstrip())


def _image_mebibytes(payload_bytes: int) -> int:
    needed = -(-(payload_bytes + OVERHEAD_BYTES) // MEBIBYTE)
    return max(MINIMUM_IMAGE_MEBIBYTES, needed)


def make_esp_image(output_path: PathLike,
                   loader_efi: PathLike,
                   nucleus_elf: PathLike,
                   bundle: Optional[PathLike] = None,
                   cmdline: Optional[str] = None) -> Path:
    """Builds a FAT image holding EFI/BOOT/BOOTX64.EFI, nucleus.elf and, when given,
    bundle.cpio and cmdline.txt (cmdline is the command-line text itself). Returns the
    image path. Raises EspImageError naming the missing file or the failing command."""
    loader = _require_file(loader_efi, "UEFI loader (BOOTX64.EFI)")
    nucleus = _require_file(nucleus_elf, "nucleus ELF")
    bundle_path = _require_file(bundle, "bundle") if bundle is not None else None
    mkfs = _require_tool("mkfs.fat", "dosfstools")
    mcopy = _require_tool("mcopy", "mtools")
    mmd = _require_tool("mmd", "mtools")

    payload = loader.stat().st_size + nucleus.stat().st_size
    if bundle_path is not None:
        payload += bundle_path.stat().st_size
    if cmdline is not None:
        payload += len(cmdline.encode())
    mebibytes = _image_mebibytes(payload)
    fat_bits = "16" if mebibytes <= FAT16_LIMIT_MEBIBYTES else "32"

    output = Path(output_path)
    output.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the target and renamed, so a reader never sees a half-written image.
    partial = output.with_name(output.name + ".partial")
    partial.unlink(missing_ok=True)
    with open(partial, "wb") as handle:
        handle.truncate(mebibytes * MEBIBYTE)
    try:
        _run([mkfs, "-F", fat_bits, "-n", "UMKA-ESP", str(partial)])
        image = str(partial)
        _run([mmd, "-i", image, "::/EFI", "::/EFI/BOOT"])
        _run([mcopy, "-i", image, str(loader), "::/EFI/BOOT/BOOTX64.EFI"])
        _run([mcopy, "-i", image, str(nucleus), "::/nucleus.elf"])
        if bundle_path is not None:
            _run([mcopy, "-i", image, str(bundle_path), "::/bundle.cpio"])
        if cmdline is not None:
            with tempfile.TemporaryDirectory() as scratch:
                text = Path(scratch) / "cmdline.txt"
                text.write_text(cmdline + "\n")
                _run([mcopy, "-i", image, str(text), "::/cmdline.txt"])
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return output


def ovmf_qemu_args(work_dir: PathLike) -> list[str]:
    """QEMU arguments that boot OVMF from split flash: read-only code plus a private,
    writable copy of the variable store in work_dir (OVMF writes boot entries there,
    and the system template must stay pristine). Use with -machine q35 or pc."""
    code = _require_file(OVMF_CODE, "OVMF firmware code (Debian package ovmf)")
    template = _require_file(OVMF_VARS_TEMPLATE, "OVMF variable store template (Debian package ovmf)")
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    variables = work / "OVMF_VARS_4M.fd"
    shutil.copyfile(template, variables)
    return [
        "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
        "-drive", f"if=pflash,format=raw,unit=1,file={variables}",
    ]


def esp_drive_args(image_path: PathLike) -> list[str]:
    """QEMU arguments attaching an ESP image as the first disk. IDE works on both pc
    (PIIX) and q35 (AHCI) and OVMF drives both without extra options."""
    image = _require_file(image_path, "ESP image")
    return ["-drive", f"format=raw,file={image},if=ide,index=0,media=disk"]


def ovmf_runs_under_kvm(cpu_model: str, timeout: float = 20.0) -> tuple[bool, str]:
    """Whether OVMF gets as far as printing on the serial console under KVM here.

    Some hosts expose /dev/kvm but cannot run OVMF: nested or paravirtual KVM ("kvm-pvm")
    emulates code that runs with paging off, and its emulator stops at the x87 FNINIT in
    OVMF's SEC phase ("KVM internal error. Suberror: 1 ... emulation failure"), leaving
    QEMU paused forever. SeaBIOS and Multiboot kernels are unaffected. cpu_model is the
    one UEFI boots use under KVM (accel_probe.KVM_CPU_MODEL; accel_probe.py calls this as
    part of its probe). Returns (True, "") when OVMF printed something, else (False, reason)."""
    return _ovmf_prints(["-accel", "kvm", "-cpu", cpu_model], timeout)


def _ovmf_prints(accelerator_args: list[str], timeout: float) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(prefix="umka-ovmf-probe-") as scratch:
        command = (["qemu-system-x86_64", "-machine", "pc"] + accelerator_args +
                   ["-m", "256M", "-display", "none", "-monitor", "none", "-serial", "stdio",
                    "-net", "none", "-no-reboot"] + ovmf_qemu_args(scratch))
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        errors = bytearray()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([process.stdout, process.stderr], [], [], 0.2)
                for stream in ready:
                    chunk = os.read(stream.fileno(), 4096)
                    if stream is process.stdout and chunk:
                        return True, ""
                    if stream is process.stderr:
                        errors += chunk
                if b"KVM internal error" in errors:
                    return False, ("KVM cannot emulate OVMF's early firmware code on this host "
                                   "(KVM internal error, emulation failure)")
                if process.poll() is not None:
                    return False, (f"QEMU exited with status {process.returncode} before OVMF "
                                   f"printed: {errors.decode(errors='replace').strip()}")
            return False, f"OVMF printed nothing on the serial console within {timeout:.0f} s"
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()

