"""Runs one QEMU guest on the serial console and times, on the host's wall clock, the
interval from starting QEMU to the first appearance of a marker in the guest's output.
After the marker, console lines are typed one per prompt (when a prompt is given) until the
guest powers off. Both UmkaOS (marker: its first `umka> ` prompt) and the Linux baseline
(marker: the line its /init prints) go through here, so both figures include the same QEMU
start-up and firmware.
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from dataclasses import dataclass, field


@dataclass
class TimedRun:
    status: int  # QEMU's exit status; 124 when the run timed out
    seconds_to_marker: float | None  # None: the marker never appeared
    output: str = field(repr=False)


def timed_run(command: list[str], marker: bytes, lines: list[str] | None = None,
              prompt: bytes | None = None, timeout: float = 300.0) -> TimedRun:
    pending = list(lines or [])
    output = bytearray()
    # Where the last line was typed: the next is typed once a prompt appears after it,
    # wherever it appears (a log line may follow the prompt: "umka> containment: ...").
    typed_at = 0
    marker_seconds = None
    start = time.monotonic()
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        while True:
            remaining = start + timeout - time.monotonic()
            if remaining <= 0:
                return TimedRun(124, marker_seconds, output.decode(errors="replace"))
            ready, _, _ = select.select([process.stdout], [], [], min(remaining, 0.5))
            if ready:
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break
                output += chunk
                if marker_seconds is None and marker in output[-(len(chunk) + len(marker)):]:
                    marker_seconds = time.monotonic() - start
                if (marker_seconds is not None and pending and prompt is not None
                        and output.find(prompt, typed_at) >= 0):
                    process.stdin.write(pending.pop(0).encode() + b"\n")
                    process.stdin.flush()
                    typed_at = len(output)
            elif process.poll() is not None:
                break
        return TimedRun(process.wait(), marker_seconds, output.decode(errors="replace"))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
