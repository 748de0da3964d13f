"""Crash containment in QEMU (docs/crash-containment.md): the fault-injection fixture
makes a module raise a fault inside a guarded call; the nucleus contains it, answers the
request with EIO, reloads the module and carries on. Driven by boot_test.py."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def crash_bundle(tests, build: Path) -> bytes:
    """The default bundle plus the fixture (its `inject` command)."""
    manifest = (HERE.parent.parent / "initramfs" / "default" / "manifest.txt").read_text()
    manifest += "module fault_fixture.umod tier=0 transport=direct\n"
    files = {name + ".umod": tests.module_bytes(build, name)
             for name in tests.DEFAULT_MODULES + ("fault_fixture",)}
    return tests.bundle_with(build, manifest, files)


def boot_with_fixture(tests, build: Path, accel: str, script: list[str], *options: str) -> tuple[int, str]:
    with tempfile.NamedTemporaryFile(suffix=".cpio") as handle:
        handle.write(crash_bundle(tests, build))
        handle.flush()
        return tests.boot(build, accel, script, "--bundle", handle.name, *options)
