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
- A direct call into a tier-1 module (`measure direct`: console_command.Interrupt.poll of the
  console service, tier 1 in the default bundle; it drains the console's input, a ring round
  trip to the serial driver): it goes through the nucleus's trampoline, guarded and in the
  module's domain. Against boots with `param containment.direct_guards=off`, where the same
  call is an ordinary direct call: with domains on (the whole cost of the guard), and with
  domains off against the boot with domains off (the trampoline alone; the ring trip
  inside is then without its domain switches too).

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
SCRIPT = ["measure ring", "measure caps", "measure direct 20000", "poweroff"]
RING = re.compile(r"ring round trip \(.*?\): (\d+) ns per call")
CALL = re.compile(r"capability lookup .*?baseline call \(.*?\) ([\d.]+) ns")
DIRECT = re.compile(r"direct call \(console_command\.Interrupt\.poll\): ([\d.]+) ns")
GUARDS_OFF = "containment: direct calls into tier-1 modules are not guarded"
ON = "containment: memory domains on"
OFF = "containment: no memory domains: turned off by the boot manifest"


def bundle(build: Path, domains: str, guards: str = "on") -> bytes:
    manifest = (HERE.parent / "initramfs" / "default" / "manifest.txt").read_text()
    manifest += f"param containment.domains={domains}\nparam containment.direct_guards={guards}\n"
    files = {name + ".umod": boot_test.module_bytes(build, name) for name in boot_test.DEFAULT_MODULES}
    return boot_test.bundle_with(build, manifest, files)


def one_boot(build: Path, accel: str, path: Path, marker: str) -> tuple[float, float, float]:
    arguments = umka_qemu.parse_arguments(["--build", str(build), "--accel", accel, "--smp", str(SMP),
                                           "--memory", MEMORY, "--bundle", str(path)])
    with tempfile.TemporaryDirectory() as scratch:
        command = umka_qemu.qemu_command(arguments, Path(scratch)) + ["-serial", "stdio"]
    run = timed_qemu.timed_run(command, PROMPT, SCRIPT, PROMPT, timeout=600)
    output = run.output.replace("\r", "")
    ring = RING.search(output)
    call = CALL.search(output)
    direct = DIRECT.search(output)
    if run.status != 0 or marker not in output or ring is None or call is None or direct is None:
        raise RuntimeError(f"boot failed (status {run.status}, '{marker}' "
                           f"{'seen' if marker in output else 'missing'}): {output.strip()[-300:]}")
    return float(ring[1]), float(call[1]), float(direct[1])


def domain_rows(build: Path, accel: str, boots: int) -> list[dict]:
    suite = f"domains {accel}"
    samples: dict[str, list[tuple[float, float, float]]] = {"on": [], "off": [], "unguarded": [],
                                                            "bare": []}
    try:
        for name, domains, guards, marker in (("on", "on", "on", ON), ("off", "off", "on", OFF),
                                              ("unguarded", "on", "off", GUARDS_OFF),
                                              ("bare", "off", "off", GUARDS_OFF)):
            with tempfile.NamedTemporaryFile(suffix=".cpio") as handle:
                handle.write(bundle(build, domains, guards))
                handle.flush()
                for number in range(boots):
                    print(f"bench: memory domains {domains}, direct-call guards {guards}, boot "
                          f"{number + 1}/{boots}", file=sys.stderr, flush=True)
                    samples[name].append(one_boot(build, accel, Path(handle.name), marker))
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
    def poll_row(name: str, figure: str) -> dict:
        return report.row(suite, f"direct call into the tier-1 console service (Interrupt.poll), {figure}, "
                          f"smp {SMP}", [triple[2] for triple in samples[name]], "ns")
    for name, figure, baseline_name, baseline_figure in (
            ("on", "through the trampoline, in its memory domain", "unguarded", "unguarded, domains on"),
            ("off", "through the trampoline, domains off", "bare", "unguarded, domains off")):
        baseline = poll_row(baseline_name, baseline_figure)
        rows += [report.divide(poll_row(name, figure), baseline), baseline]
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
