#!/usr/bin/env python3
"""The cost of memory domains in the guest (docs/crash-containment.md, "Memory domains"):
the same workload in boots with domains on (TCG's `max` CPU has PKS) and off (`param
containment.domains=off`, the same bundle otherwise), each figure a ratio of the two.

- A ring round trip (`measure ring`, CharDevice.info across CPUs): with domains, each
  request the serial driver serves switches the provider's CPU into the driver's domain and
  back (two IA32_PKRS writes), and the driver's calls into the nucleus leave and re-enter
  it.
- A direct call into the nucleus (`measure caps`' baseline, Log.level from the workload
  module): with domains, every slot the nucleus provides reads IA32_PKRS at entry, in a
  domain or not.

    python3 bench/domain_bench.py --build build --accel tcg --boots 2
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "test" / "qemu"))
sys.path.insert(0, str(HERE))
import boot_test  # noqa: E402
import report  # noqa: E402
import timed_qemu  # noqa: E402
import umka_qemu  # noqa: E402

MEMORY = "512M"
PROMPT = b"umka> "
SMP = 4
SCRIPT = ["measure ring", "measure caps", "poweroff"]
RING = re.compile(r"ring round trip \(.*?\): (\d+) ns per call")
CALL = re.compile(r"baseline call \(.*?\) ([\d.]+) ns")
ON = "containment: memory domains on"
OFF = "containment: no memory domains: turned off by the boot manifest"


def bundle(build: Path, domains: str) -> bytes:
    manifest = (HERE.parent / "initramfs" / "default" / "manifest.txt").read_text()
    manifest += f"param containment.domains={domains}\n"
    files = {name + ".umod": boot_test.module_bytes(build, name) for name in boot_test.DEFAULT_MODULES}
    return boot_test.bundle_with(build, manifest, files)


def one_boot(build: Path, accel: str, path: Path, marker: str) -> tuple[float, float]:
    arguments = umka_qemu.parse_arguments(["--build", str(build), "--accel", accel, "--smp", str(SMP),
                                           "--memory", MEMORY, "--bundle", str(path)])
    with tempfile.TemporaryDirectory() as scratch:
        command = umka_qemu.qemu_command(arguments, Path(scratch)) + ["-serial", "stdio"]
    run = timed_qemu.timed_run(command, PROMPT, SCRIPT, PROMPT, timeout=600)
    output = run.output.replace("\r", "")
    ring = RING.search(output)
    call = CALL.search(output)
    if run.status != 0 or marker not in output or ring is None or call is None:
        raise RuntimeError(f"boot failed (status {run.status}, '{marker}' "
                           f"{'seen' if marker in output else 'missing'}): {output.strip()[-300:]}")
    return float(ring[1]), float(call[1])


def domain_rows(build: Path, accel: str, boots: int) -> list[dict]:
    suite = f"domains {accel}"
    samples: dict[str, list[tuple[float, float]]] = {"on": [], "off": []}
    try:
        for domains, marker in (("on", ON), ("off", OFF)):
            with tempfile.NamedTemporaryFile(suffix=".cpio") as handle:
                handle.write(bundle(build, domains))
                handle.flush()
                for number in range(boots):
                    print(f"bench: memory domains {domains}, boot {number + 1}/{boots}", file=sys.stderr,
                          flush=True)
                    samples[domains].append(one_boot(build, accel, Path(handle.name), marker))
    except (RuntimeError, boot_test.Failure) as error:
        return [report.failed_row(suite, "memory domains: ring round trip and nucleus call", str(error))]
    rows = []
    for index, (figure, baseline_figure) in enumerate((
            (f"ring round trip, requests in the driver's memory domain, smp {SMP}",
             f"ring round trip, no memory domains, smp {SMP}"),
            (f"direct call into the nucleus (Log.level), domains on, smp {SMP}",
             f"direct call into the nucleus (Log.level), domains off, smp {SMP}"))):
        baseline = report.row(suite, baseline_figure, [pair[index] for pair in samples["off"]], "ns")
        measured = report.row(suite, figure, [pair[index] for pair in samples["on"]], "ns")
        rows += [report.divide(measured, baseline), baseline]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, type=Path)
    parser.add_argument("--accel", choices=("kvm", "tcg"), default="tcg")
    parser.add_argument("--boots", type=int, default=2)
    arguments = parser.parse_args()
    rows = domain_rows(arguments.build.resolve(), arguments.accel, arguments.boots)
    for entry in rows:
        print(entry["figure"], entry["value"], entry["unit"], entry.get("ratio"), entry["note"])
    return 1 if any(entry["role"] == "failed" for entry in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
