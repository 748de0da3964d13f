#!/usr/bin/env python3
"""Tests of the accelerator probe (accel_probe.py), run by ctest as accel-probe-test.

    accel_probe_test.py [--build DIR] [unittest arguments...]

The verdict and cache logic is tested with boot results given directly (this host has
no working KVM to produce them). With --build, the real path is exercised too: a TCG
boot to poweroff through umka_qemu.py, and a probe where a KVM device seems accessible
but the boot under KVM cannot work, which must end in TCG with QEMU's (or the runner's)
reason. Those tests are skipped, not passed, without --build or a built nucleus.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import accel_probe  # noqa: E402
from accel_probe import BootResult, DeviceAccess  # noqa: E402

BUILD: Path | None = None

# What QEMU printed on a user's nested-KVM host with -cpu host, as umka_qemu.py relays it.
MSR_FAILURE_OUTPUT = (
    "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n"
    "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:2893: kvm_buf_set_msrs: "
    "Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.\n"
    "\numka run: QEMU exited with status -6\n")
ACCESSIBLE = DeviceAccess(True, "")


class DecideTest(unittest.TestCase):
    def test_no_device_means_tcg_with_the_reason(self):
        access = accel_probe.device_access(Path("/nonexistent/kvm"))
        self.assertFalse(access.accessible)
        self.assertEqual(accel_probe.decide(access, None, None), ("tcg", "/nonexistent/kvm does not exist"))

    def test_unreadable_device_is_not_accessible(self):
        if os.geteuid() == 0:
            self.skipTest("root may read and write any file")
        with tempfile.NamedTemporaryFile() as device:
            os.chmod(device.name, 0)
            access = accel_probe.device_access(Path(device.name))
        self.assertFalse(access.accessible)
        self.assertIn("not readable and writable", access.reason)

    def test_failed_kvm_boot_means_tcg_with_qemus_error(self):
        detail = accel_probe.qemu_error(MSR_FAILURE_OUTPUT)
        self.assertEqual(detail, "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69")
        accelerator, reason = accel_probe.decide(ACCESSIBLE, BootResult(False, 0.1, detail), None)
        self.assertEqual(accelerator, "tcg")
        self.assertIn("failed to set MSR 0x10a to 0x69", reason)

    def test_error_without_a_qemu_line_uses_the_runners_summary(self):
        output = "some guest output\numka run: timed out after 60 s\n"
        self.assertEqual(accel_probe.qemu_error(output), "umka run: timed out after 60 s")

    def test_kvm_slower_than_tcg_means_tcg_nested_slow(self):
        accelerator, reason = accel_probe.decide(ACCESSIBLE, BootResult(True, 3.2), BootResult(True, 0.9))
        self.assertEqual(accelerator, "tcg")
        self.assertTrue(reason.startswith("nested/slow"), reason)
        self.assertIn("3.20 s under KVM", reason)

    def test_kvm_working_and_fast_means_kvm(self):
        accelerator, reason = accel_probe.decide(ACCESSIBLE, BootResult(True, 0.3), BootResult(True, 0.9))
        self.assertEqual(accelerator, "kvm")
        self.assertIn("0.30 s under KVM, 0.90 s under TCG", reason)

    def test_the_threshold_is_the_tcg_time_times_the_limit(self):
        tcg = 1.0
        at_limit = tcg * accel_probe.SLOWDOWN_LIMIT
        self.assertEqual(accel_probe.decide(ACCESSIBLE, BootResult(True, at_limit), BootResult(True, tcg))[0], "kvm")
        self.assertEqual(accel_probe.decide(ACCESSIBLE, BootResult(True, at_limit + 0.01),
                                            BootResult(True, tcg))[0], "tcg")

    def test_fallback_line_is_one_line_naming_the_reason(self):
        verdict = make_verdict("tcg", "nested/slow: slow")
        self.assertEqual(accel_probe.fallback_line(verdict), "umka: KVM unusable here (nested/slow: slow); using TCG")
        self.assertIsNone(accel_probe.fallback_line(make_verdict("kvm", "fast")))

    def test_uefi_follows_ovmf_and_thread_scenarios_need_bare_metal(self):
        verdict = make_verdict("kvm", "fast", nested=True, uefi_accelerator="tcg", uefi_reason="OVMF fails")
        self.assertIsNone(accel_probe.gate_reason(verdict, uefi=False, bare_metal=False))
        self.assertEqual(accel_probe.gate_reason(verdict, uefi=True, bare_metal=False), "OVMF fails")
        self.assertIn("nested", accel_probe.gate_reason(verdict, uefi=False, bare_metal=True))
        self.assertIn("OVMF fails", accel_probe.fallback_line(verdict, uefi=True))
        self.assertEqual(accel_probe.gate_reason(make_verdict("tcg", "no KVM"), False, False), "no KVM")


def make_verdict(accelerator: str, reason: str, nested: bool = False, uefi_accelerator: str | None = None,
                 uefi_reason: str | None = None, key: dict | None = None) -> accel_probe.Verdict:
    return accel_probe.Verdict(accelerator, reason, 0.3, 0.9, "QEMU 7.2", accel_probe.KVM_CPU_MODEL, nested,
                               uefi_accelerator or accelerator, uefi_reason or reason, key or {"a": 1})


class RecordTest(unittest.TestCase):
    def test_a_record_round_trips(self):
        verdict = make_verdict("kvm", "fast", key={"nucleus_sha256": "ab"})
        record = json.loads(json.dumps(verdict.to_record()))
        self.assertEqual(accel_probe.Verdict.from_record(record), verdict)
        self.assertEqual(accel_probe.cached_verdict(record, {"nucleus_sha256": "ab"}), verdict)
        self.assertIsNone(accel_probe.cached_verdict(record, {"nucleus_sha256": "cd"}))

    def test_garbled_records_are_refused_with_the_reason(self):
        good = make_verdict("kvm", "fast").to_record()
        cases = {
            "not a JSON object": ["kvm"],
            "format": {**good, "format": 99},
            "'reason' is missing": {key: value for key, value in good.items() if key != "reason"},
            "'nested' has the wrong type": {**good, "nested": "yes"},
            "'accelerator' is 'fast'": {**good, "accelerator": "fast"},
        }
        for expected, record in cases.items():
            with self.subTest(expected), self.assertRaises(ValueError) as raised:
                accel_probe.cached_verdict(record, good["key"])
            self.assertIn(expected, str(raised.exception))


class ProbeCacheTest(unittest.TestCase):
    """probe() with boot results handed in: whether it boots, what it caches and when it
    trusts the cache. The device is a plain file, accessible like a working /dev/kvm."""

    def setUp(self):
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        self.build = Path(scratch.name) / "build"
        self.build.mkdir()
        (self.build / "nucleus.bin").write_bytes(b"nucleus one")
        (self.build / "bundle.cpio").write_bytes(b"bundle")
        self.device = Path(scratch.name) / "kvm"
        self.device.write_bytes(b"")
        self.boots: list[str] = []
        self.results = {"kvm": BootResult(True, 0.2), "tcg": BootResult(True, 1.0)}
        self.notes: list[str] = []

    def boot(self, build: Path, accelerator: str) -> BootResult:
        self.assertEqual(build, self.build)
        self.boots.append(accelerator)
        return self.results[accelerator]

    def probe(self) -> accel_probe.Verdict:
        return accel_probe.probe(self.build, device=self.device, boot=self.boot,
                                 ovmf_check=lambda cpu_model: (True, ""), notes=self.notes.append)

    def test_no_device_boots_nothing_and_caches_nothing(self):
        verdict = accel_probe.probe(self.build, device=self.build / "no-such-kvm", boot=self.boot,
                                    notes=self.notes.append)
        self.assertEqual((verdict.accelerator, verdict.uefi_accelerator), ("tcg", "tcg"))
        self.assertIn("does not exist", verdict.reason)
        self.assertEqual(self.boots, [])
        self.assertFalse((self.build / accel_probe.CACHE_FILE_NAME).exists())

    def test_working_kvm_is_chosen_and_cached(self):
        verdict = self.probe()
        self.assertEqual((verdict.accelerator, verdict.kvm_seconds, verdict.tcg_seconds), ("kvm", 0.2, 1.0))
        self.assertEqual(self.boots, ["kvm", "tcg"])
        record = json.loads((self.build / accel_probe.CACHE_FILE_NAME).read_text())
        self.assertEqual(record["accelerator"], "kvm")
        self.assertEqual(record["cpu_model"], accel_probe.KVM_CPU_MODEL)
        self.assertEqual(record["key"]["nucleus_sha256"], accel_probe.file_digest(self.build / "nucleus.bin"))

    def test_failed_kvm_boot_skips_the_tcg_boot_and_ovmf(self):
        self.results["kvm"] = BootResult(False, 0.1, "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69")
        verdict = self.probe()
        self.assertEqual(verdict.accelerator, "tcg")
        self.assertIn("MSR 0x10a", verdict.reason)
        self.assertEqual((verdict.kvm_seconds, verdict.tcg_seconds), (None, None))
        self.assertEqual(self.boots, ["kvm"])

    def test_cache_is_reused_while_the_key_matches(self):
        first = self.probe()
        self.boots.clear()
        self.results["kvm"] = BootResult(False, 0.1, "would change the verdict if booted")
        self.assertEqual(self.probe(), first)
        self.assertEqual(self.boots, [])
        self.assertEqual(self.notes, [])

    def test_cache_is_ignored_when_the_nucleus_changes(self):
        self.probe()
        self.boots.clear()
        (self.build / "nucleus.bin").write_bytes(b"nucleus two")
        self.results["kvm"] = BootResult(True, 5.0)
        verdict = self.probe()
        self.assertEqual(self.boots, ["kvm", "tcg"])
        self.assertEqual(verdict.accelerator, "tcg")
        self.assertTrue(verdict.reason.startswith("nested/slow"))

    def test_cache_is_ignored_when_the_device_changes(self):
        self.probe()
        self.boots.clear()
        os.chmod(self.device, 0o600 if (self.device.stat().st_mode & 0o777) != 0o600 else 0o660)
        self.probe()
        self.assertEqual(self.boots, ["kvm", "tcg"])

    def test_garbled_cache_is_reported_and_probed_again(self):
        cache = self.build / accel_probe.CACHE_FILE_NAME
        for garbage in ("{not json", json.dumps({"format": 1, "accelerator": "kvm"})):
            with self.subTest(garbage):
                self.boots.clear()
                self.notes.clear()
                cache.write_text(garbage)
                self.results["kvm"] = BootResult(False, 0.1, "kvm broken")
                verdict = self.probe()
                self.assertEqual(verdict.accelerator, "tcg")
                self.assertEqual(self.boots, ["kvm"])
                self.assertEqual(len(self.notes), 1)
                self.assertIn(f"ignoring the accelerator probe cache {cache}", self.notes[0])
                # The cache now holds the new verdict, valid for the same key.
                self.assertEqual(json.loads(cache.read_text())["reason"], verdict.reason)

    def test_ovmf_failure_keeps_uefi_on_tcg(self):
        if not accel_probe.esp_image.OVMF_CODE.is_file():
            self.skipTest("OVMF is not installed")
        verdict = accel_probe.probe(self.build, device=self.device, boot=self.boot,
                                    ovmf_check=lambda cpu_model: (False, "KVM internal error"),
                                    notes=self.notes.append)
        self.assertEqual((verdict.accelerator, verdict.uefi_accelerator), ("kvm", "tcg"))
        self.assertIn("KVM internal error", verdict.uefi_reason)


class RealBootTest(unittest.TestCase):
    """The real path: umka_qemu.py and QEMU, with the build given on the command line."""

    def setUp(self):
        if BUILD is None:
            self.skipTest("no --build given")
        for needed in ("nucleus.bin", "bundle.cpio"):
            if not (BUILD / needed).is_file():
                self.skipTest(f"{BUILD / needed} is not built")

    def test_tcg_boot_to_poweroff_is_timed(self):
        result = accel_probe.boot_to_poweroff(BUILD, "tcg")
        self.assertTrue(result.succeeded, result.detail)
        self.assertGreater(result.seconds, 0.0)
        self.assertLess(result.seconds, accel_probe.PROBE_TIMEOUT_SECONDS)

    def test_device_that_does_not_work_ends_in_tcg_with_the_reason(self):
        if accel_probe.device_access().accessible:
            self.skipTest("this host's /dev/kvm is accessible: a KVM boot might work")
        with tempfile.TemporaryDirectory() as scratch:
            build = Path(scratch)
            for name in ("nucleus.bin", "bundle.cpio"):
                (build / name).symlink_to((BUILD / name).resolve())
            seems_accessible = build / "kvm"
            seems_accessible.write_bytes(b"")
            # umka_qemu.py accepts --accel kvm for this device, so QEMU itself gets to fail.
            os.environ["UMKA_KVM_DEVICE"] = str(seems_accessible)
            try:
                verdict = accel_probe.probe(build, device=seems_accessible)
            finally:
                del os.environ["UMKA_KVM_DEVICE"]
            self.assertEqual(verdict.accelerator, "tcg")
            self.assertTrue(verdict.reason.startswith("the probe boot under KVM failed: qemu-system-x86_64: "),
                            verdict.reason)
            self.assertIsNone(verdict.kvm_seconds)
            self.assertTrue((build / accel_probe.CACHE_FILE_NAME).is_file())

    def test_default_run_prints_one_line_saying_why_not_kvm(self):
        access = accel_probe.device_access()
        if access.accessible:
            self.skipTest("this host's /dev/kvm is accessible; the line depends on its probe")
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as script:
            script.write("poweroff\n")
            script.flush()
            result = subprocess.run([sys.executable, str(HERE / "umka_qemu.py"), "--build", str(BUILD),
                                     "--script", script.name, "--timeout", "60"],
                                    capture_output=True, text=True, errors="replace")
        self.assertEqual(result.returncode, 0, result.stdout[-2000:])
        self.assertEqual(result.stderr.splitlines(), [f"umka: KVM unusable here ({access.reason}); using TCG"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--build", type=Path)
    known, rest = parser.parse_known_args()
    BUILD = known.build
    unittest.main(argv=[sys.argv[0]] + rest)
