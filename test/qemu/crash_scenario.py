"""Crash containment in QEMU (docs/crash-containment.md): the fault-injection fixture
makes a module raise a fault inside a guarded call; the nucleus contains it, answers the
request with EIO, reloads the module and carries on. Driven by boot_test.py."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def crash_bundle(tests, build: Path, extra_lines: str = "") -> bytes:
    """The default bundle plus the fixture (its `inject` command) and `extra_lines` of
    manifest (a restart policy's `param` lines)."""
    manifest = (HERE.parent.parent / "initramfs" / "default" / "manifest.txt").read_text()
    manifest += "module fault_fixture.umod tier=0 transport=direct\n" + extra_lines
    files = {name + ".umod": tests.module_bytes(build, name)
             for name in tests.DEFAULT_MODULES + ("fault_fixture",)}
    return tests.bundle_with(build, manifest, files)


def boot_with_fixture(tests, build: Path, accel: str, script: list[str], *options: str,
                      extra_lines: str = "") -> tuple[int, str]:
    with tempfile.NamedTemporaryFile(suffix=".cpio") as handle:
        handle.write(crash_bundle(tests, build, extra_lines))
        handle.flush()
        return tests.boot(build, accel, script, "--bundle", handle.name, *options)


CRASH_LINE = (r"containment: crash (\d+): (#\w+ [a-z ]+) in 'serial_console' at 0x[0-9a-f]+ "
              r"\(serial_console\+0x[0-9a-f]+, umka_fault_site(?:\.cold)?\+0x[0-9a-f]+\)")


def free_frames(tests, output: str, occurrence: int) -> int:
    found = re.search(r"frames: total \d+, free (\d+)", tests.command_output(output, "mem", occurrence))
    tests.expect(found is not None, f"'mem' #{occurrence + 1} printed no frame counts")
    return int(found[1])


def heap_books(tests, output: str, occurrence: int) -> tuple[int, int, int]:
    """The heap's own accounts at `heap` #occurrence: its footprint in KiB (slabs, metadata
    and large allocations: the frames it holds) and the nucleus's live objects (class
    allocations less frees, large ones)."""
    table = tests.command_output(output, "heap", occurrence)
    large = re.search(r"large: (\d+) live \((\d+) KiB\); slabs (\d+) KiB; metadata (\d+) KiB", table)
    objects = re.search(r"nucleus objects: (\d+) class allocations, (\d+) class frees, (\d+) large live", table)
    tests.expect(large is not None and objects is not None, f"'heap' #{occurrence + 1} printed no totals:\n{table}")
    footprint = int(large[2]) + int(large[3]) + int(large[4])
    return footprint, int(objects[1]) - int(objects[2]), int(objects[3])


def capabilities(tests, output: str, occurrence: int) -> list[str]:
    table = tests.command_output(output, "caps serial_console", occurrence)
    # A set: a restart's capabilities may take freed slots of the table, in any order.
    return sorted(re.findall(r"service-binding \S+\s+(\S+) from", table))


def load_progress(tests, output: str, occurrence: int) -> tuple[str, list[int]]:
    table = tests.command_output(output, "load stats", occurrence)
    return table, [int(count) for count in re.findall(r"^\s+thread\s+\d+: (\d+)", table, re.MULTILINE)]


def expect_second_restart_leaked_nothing(tests, output: str, first_mem: int) -> None:
    """`heap` #0 and #1 after the first and the second restart, `mem` #first_mem and the one
    after likewise. The first restart makes one-time allocations (evolution's records); a
    second leaks nothing. The heap may grow meanwhile (a CPU's cache, made on its first
    allocation there), so the frames are held against the heap's own books: every frame the
    second restart kept is one the heap holds, and the nucleus's live objects are the same."""
    first_heap, second_heap = heap_books(tests, output, 0), heap_books(tests, output, 1)
    tests.expect(first_heap[1:] == second_heap[1:],
                 f"a restart leaked nucleus objects (class live, large live): {first_heap[1:]} -> {second_heap[1:]}")
    kept_kib = 4 * (free_frames(tests, output, first_mem) - free_frames(tests, output, first_mem + 1))
    tests.expect(kept_kib == second_heap[0] - first_heap[0],
                 f"a restart leaked frames: {kept_kib} KiB kept after crash 2, of which the heap "
                 f"holds {second_heap[0] - first_heap[0]} KiB")


def expect_one_caller_kept_calling(tests, output: str, what: str) -> None:
    """`load stats` before and after: the one ring caller still runs and called more."""
    _, first = load_progress(tests, output, 0)
    after, second = load_progress(tests, output, 1)
    tests.expect("1 threads, 1 still running" in after or "1 thread, 1 still running" in after,
                 f"the ring caller gave up over {what}:\n{after}")
    tests.expect(len(first) == 1 and len(second) == 1 and second[0] > first[0],
                 f"the ring caller did not keep calling across the restart: {first} -> {second}")


def run_recovery(tests, build: Path, accel: str) -> None:
    """Two faults in the serial driver, each inside a request its ring provider thread serves,
    while two threads call it over rings of their own: both are contained, attributed to
    the driver's fault site, answered with EIO and the driver reloaded; the callers retry
    and keep going, the console keeps answering, and a restart leaks no frame or capability."""
    status, output = boot_with_fixture(tests, build, accel, [
        "load start ring 2", "wait 200", "load stats", "mem", "caps serial_console",
        "inject serial_console null", "wait 100", "heap", "mem", "caps serial_console",
        "inject serial_console noncanonical", "wait 100", "load stats", "heap", "mem", "caps serial_console",
        "crashes", "inject nosuch null", "inject serial_console bogus", "inject off", "load stop",
        "mods", "poweroff"], "--smp", "2")
    # The nucleus's log lines are not read here: under ring load the driver writes the UART
    # for the load threads and the console while the nucleus logs the crash, and the bytes
    # of the two writers interleave. The `crashes` table is one command's coherent output.
    table = tests.command_output(output, "crashes")
    tests.expect(re.search(r"^serial_console\s+running\s+2\s+2 #2$", table, re.MULTILINE) is not None,
                 f"'crashes' does not show 2 crashes and 2 restarts:\n{table}")
    reports = re.findall(r"^#(\d) at \d+ ms on cpu \d: (#\w+) [a-z ]+ in serial_console rip 0x[0-9a-f]+ "
                         r"\(serial_console\+0x[0-9a-f]+, umka_fault_site\) cr2 0x[0-9a-f]+ error 0x[0-9a-f]+ "
                         r"-> running, back in (\d+) us$", table, re.MULTILINE)
    tests.expect([(number, fault) for number, fault, _ in reports] == [("1", "#PF"), ("2", "#GP")],
                 f"'crashes' reports {reports}, expected #PF then #GP in serial_console's fault site:\n{table}")
    print("recovery (fault to the fresh instance bound, us): " + ", ".join(us for _, _, us in reports))
    before, first = load_progress(tests, output, 0)
    after, second = load_progress(tests, output, 1)
    tests.expect("2 threads, 2 still running" in after,
                 f"a ring caller gave up over the crashes (EIO not retried?):\n{after}")
    tests.expect(len(first) == 2 and len(second) == 2 and all(b > a for a, b in zip(first, second)),
                 f"the ring callers did not keep calling across the restarts: {first} -> {second}")
    expect_second_restart_leaked_nothing(tests, output, 1)
    caps = [capabilities(tests, output, index) for index in range(3)]
    tests.expect(caps[0] == caps[1] == caps[2] and len(caps[0]) == 3,
                 f"the restarted driver's capabilities differ: {caps}")
    tests.expect_text(tests.command_output(output, "inject nosuch null"), "inject: ENOENT nosuch")
    tests.expect_text(tests.command_output(output, "inject serial_console bogus"),
                      "inject: unknown fault 'bogus'")
    tests.expect_text(tests.command_output(output, "inject off"), "inject: nothing was armed (ENOENT)")
    mods = tests.command_output(output, "mods")
    tests.expect(re.search(r"^serial_console\s+1\s+0 direct.*loaded, memory domain, crashed 2, restarted 2, running, "
                           r"last: #GP general protection$", mods, re.MULTILINE) is not None,
                 f"'mods' does not list the restarted serial driver as loaded with its crashes:\n{mods}")
    tests.expect_clean_power_off(status, output)


def run_failed(tests, build: Path, accel: str) -> None:
    """Three crashes of the serial driver within 60 s: restarted twice, then failed. The
    console's writes get ENODEV, it stops, the nucleus console takes over (the failed driver's
    interrupt line is released, so the nucleus reads the UART) and the machine still works."""
    status, output = boot_with_fixture(tests, build, accel, [
        "inject serial_console opcode", "wait 50", "inject serial_console divide", "wait 50",
        "inject serial_console null", "mods", "poweroff"])
    crashes = re.findall(CRASH_LINE, output)
    tests.expect([fault for _, fault in crashes] == ["#UD invalid opcode", "#DE divide error", "#PF page fault"],
                 f"crash reports {crashes}")
    restarts = re.findall(r"containment: 'serial_console' restarted from serial_console\.umod in \d+ us "
                          r"\(crash (\d)\)", output)
    tests.expect(restarts == ["1", "2"], f"restarts {restarts}, expected crashes 1 and 2 only")
    for text in ("containment: 'serial_console' failed: 3 crashes within 60000 ms; not restarted",
                 "containment: 'serial_console' failed: 1 interrupt binding(s) released",
                 "console: char device write failed (errno 19); console stops",
                 "the nucleus console takes over"):
        tests.expect_text(output, text)
    tail = output.split("the nucleus console takes over", 1)[1]
    tests.expect(re.search(r"^serial_console\s+loaded$", tail, re.MULTILINE) is not None,
                 f"the nucleus console did not answer 'mods':\n{tail[:2000]}")
    tests.expect_clean_power_off(status, output)


def run_watchdog(tests, build: Path, accel: str) -> None:
    """An endless loop in the serial driver, inside a request served with interrupts off:
    the other CPU's timer tick finds the call over the limit the driver's manifest sets
    (`watchdog 2000 ms` in its IDL; the default is 5000 ms) and sends an NMI, whose handler
    contains it like a fault; the driver is back and the console answers."""
    status, output = boot_with_fixture(tests, build, accel, [
        "inject serial_console hang", "wait 100", "crashes", "poweroff"], "--smp", "2")
    found = re.search(r"containment: crash 1: watchdog: over 2000 ms in 'serial_console' at 0x[0-9a-f]+ "
                      r"\(serial_console\+0x[0-9a-f]+, umka_fault_site\+0x[0-9a-f]+\)", output)
    tests.expect(found is not None,
                 "the watchdog did not stop the endless loop in serial_console at its manifest's 2000 ms")
    tests.expect_text(output, "containment: 'serial_console' restarted from serial_console.umod")
    table = tests.command_output(output, "crashes")
    stopped = re.search(r"^#1 at (\d+) ms on cpu \d: watchdog: over 2000 ms in serial_console .* -> running, "
                        r"back in \d+ us$", table, re.MULTILINE)
    tests.expect(stopped is not None, f"'crashes' has no watchdog report:\n{table}")
    tests.expect(int(stopped[1]) >= 2000, f"stopped at {stopped[1]} ms after boot, before the 2000 ms limit")
    tests.expect_clean_power_off(status, output)


def run_stack_overflow(tests, build: Path, accel: str) -> None:
    """Unbounded recursion in the serial driver, inside a request its ring provider thread
    serves, on one CPU: the stack runs into its unmapped guard page, the page fault cannot
    push its frame and becomes a double fault on its own stack; the nucleus contains it like
    any fault (the recursion's frames are all the driver's), the driver is back, and the ring
    caller that got EIO retries and keeps going. The bundle's manifest also sets the restart
    policy: a window it takes, a crash count out of range it refuses with the reason."""
    status, output = boot_with_fixture(tests, build, accel, [
        "load start ring 1", "wait 100", "load stats", "inject serial_console stack", "wait 100",
        "load stats", "crashes", "load stop", "poweroff"], "--smp", "1",
        extra_lines="param containment.crashes=0\nparam containment.window_ms=5000\n")
    tests.expect_text(output, "containment: param containment.crashes=0 refused: not a number in 1..16; "
                              "the default stays")
    tests.expect_text(output, "containment: restart policy from the boot manifest: failed at 3 crashes "
                              "within 5000 ms")
    # The table, not the log line: the load thread's and the console's writes may interleave
    # with the nucleus's log (run_recovery).
    table = tests.command_output(output, "crashes")
    found = re.search(r"^#1 at \d+ ms on cpu 0: #DF stack overflow in serial_console rip 0x[0-9a-f]+ "
                      r"\(serial_console\+0x[0-9a-f]+, umka_fault_recurse[.\w]*\) cr2 0x([0-9a-f]+) error 0x0 "
                      r"-> running, back in \d+ us$", table, re.MULTILINE)
    tests.expect(found is not None,
                 f"'crashes' has no #DF stack overflow attributed to serial_console's recursion:\n{table}")
    tests.expect(int(found[1], 16) >= 0xffff800000000000,
                 f"the overflow's address {found[1]} is not in the nucleus's half (a thread stack's guard page)")
    expect_one_caller_kept_calling(tests, output, "the overflow")
    tests.expect_clean_power_off(status, output)


def run_fresh_state(tests, build: Path, accel: str) -> None:
    """A crash that leaves the serial driver's state garbage (every byte of it 0xa5, then
    #UD in its code), while threads load both CPUs: the restart's fresh instance refuses to
    import that state (no mode the driver writes is 0xa5), so it starts with fresh state
    instead of the driver failing, and `crashes` says so; the console finds the device
    closed, opens it again and keeps answering, and the load threads never stop.

    The load runs on other modules, not over rings to the driver: then the console's own
    next request (the `inject` command's output) takes the fault, and the prompt comes only
    after the restart. Bytes typed during a restart would go to the crashed instance's
    receive ring, which the fresh state does not keep."""
    status, output = boot_with_fixture(tests, build, accel, [
        "load start cpu 2", "wait 100", "load stats", "inject serial_console state", "wait 100",
        "load stats", "crashes", "mods", "load stop", "poweroff"], "--smp", "2")
    # The table, not the log lines: the console's writes may interleave with the nucleus's
    # log (run_recovery). That the console answers `crashes` and `mods` after the restart is
    # itself the proof that it opened the fresh driver again.
    table = tests.command_output(output, "crashes")
    tests.expect(re.search(r"^#1 at \d+ ms on cpu \d: #UD invalid opcode in serial_console rip 0x[0-9a-f]+ "
                           r"\(serial_console\+0x[0-9a-f]+, umka_fault_site[.\w]*\) .*-> running, back in \d+ us, "
                           r"with fresh state$", table, re.MULTILINE) is not None,
                 f"'crashes' has no #UD in serial_console followed by a restart with fresh state:\n{table}")
    mods = tests.command_output(output, "mods")
    tests.expect(re.search(r"^serial_console\s.*loaded, memory domain, crashed 1, restarted 1, running, last: #UD invalid opcode$",
                           mods, re.MULTILINE) is not None,
                 f"'mods' does not list the driver restarted once:\n{mods}")
    _, first = load_progress(tests, output, 0)
    after, second = load_progress(tests, output, 1)
    tests.expect("2 threads, 2 still running" in after, f"a load thread stopped over the crash:\n{after}")
    tests.expect(len(first) == 2 and len(second) == 2 and all(b > a for a, b in zip(first, second)),
                 f"the load threads did not keep counting across the restart: {first} -> {second}")
    tests.expect_clean_power_off(status, output)


START_CRASH = (r"containment: crash (\d+): #UD invalid opcode in the start-up of 'serial_console' at 0x[0-9a-f]+ "
               r"\(serial_console\+0x[0-9a-f]+, umka_fault_site(?:\.cold)?\+0x[0-9a-f]+\)")


def expect_failed_in_start_up(tests, output: str, starts: list[int]) -> None:
    """Crashes `starts` were start-ups; the last two those of the restarts' fresh instances.
    The third crash within 60 s failed the driver, the console fell back and the machine
    still works."""
    found = [int(number) for number in re.findall(START_CRASH, output)]
    tests.expect(found == starts, f"start-up crashes {found}, expected {starts}")
    noted = [int(number) for number in re.findall(
        r"containment: the fresh instance of 'serial_console' crashed in its start-up \(crash (\d)\)", output)]
    tests.expect(noted == [2, 3], f"restarts whose fresh instance crashed: {noted}, expected [2, 3]")
    tests.expect(re.search(r"containment: 'serial_console' restarted from", output) is None,
                 "a fresh instance whose start crashed was reported restarted")
    for text in ("containment: 'serial_console' failed: 3 crashes within 60000 ms; not restarted",
                 "containment: 'serial_console' failed: 1 interrupt binding(s) released",
                 "the nucleus console takes over"):
        tests.expect_text(output, text)
    tail = output.split("the nucleus console takes over", 1)[1]
    rows = {name: state for name, state in re.findall(r"^(\w+)\s+(loaded|failed\S*)", tail, re.MULTILINE)}
    tests.expect(rows.get("serial_console") == "loaded" and rows.get("workload") == "loaded",
                 f"the nucleus console's 'mods' does not list the driver and the workload:\n{tail[:2000]}")


def run_every_start(tests, build: Path, accel: str) -> None:
    """A driver whose every new instance crashes in its start-up, while two threads load the
    CPUs: one #UD in a request sets off a restart; each fresh instance's start is guarded
    like a request, so its crash is contained too, counted, and the restart tried again;
    the third crash within 60 s fails the driver, and the rest keeps running."""
    status, output = boot_with_fixture(tests, build, accel, [
        "load start cpu 2", "wait 100", "inject serial_console start", "inject serial_console opcode",
        "mods", "poweroff"], "--smp", "2")
    tests.expect_text(output, "inject: armed start in 'serial_console': every new instance's start-up faults")
    calls = re.findall(CRASH_LINE, output)
    tests.expect([fault for _, fault in calls] == ["#UD invalid opcode"], f"call crashes {calls}")
    expect_failed_in_start_up(tests, output, [2, 3])
    tests.expect_clean_power_off(status, output)


def run_every_start_evolve(tests, build: Path, accel: str) -> None:
    """The same crash in the start-up of a live swap's new instance (`evolve`): the swap is
    committed, its start crashes; the console's `evolve`, the caller of the swap, restarts
    the driver as a provider thread would, until the policy fails it."""
    status, output = boot_with_fixture(tests, build, accel, [
        "inject serial_console start", "evolve serial_console serial_console.umod", "mods", "poweroff"])
    expect_failed_in_start_up(tests, output, [1, 2, 3])
    tests.expect_clean_power_off(status, output)


def run_wild(tests, build: Path, accel: str) -> None:
    """The isolation violation: the serial driver's code writes into the nucleus's own
    memory (a word of its .data) while two threads load the CPUs. Its ring request runs in
    its memory domain (PKS: the nucleus's data write-disabled), so the write faults with the
    protection-key bit instead of landing; the fault is contained like any other, the word
    still holds its value, and the driver is back."""
    status, output = boot_with_fixture(tests, build, accel, [
        "load start cpu 2", "wait 100", "load stats", "inject serial_console wild", "wait 100",
        "load stats", "crashes", "mods", "load stop", "poweroff"], "--smp", "2")
    tests.expect_text(output, "containment: memory domains on")
    landed = re.search(r"containment: the wild write into the nucleus at (0x[0-9a-f]+) (did not land|landed)", output)
    tests.expect(landed is not None and landed[2] == "did not land",
                 f"the wild write's fate: {landed[0] if landed else 'not reported'}")
    table = tests.command_output(output, "crashes")
    found = re.search(r"^#1 at \d+ ms on cpu \d: #PF protection key in serial_console rip 0x[0-9a-f]+ "
                      r"\(serial_console\+0x[0-9a-f]+, umka_fault_site[.\w]*\) cr2 0x([0-9a-f]+) error 0x([0-9a-f]+) "
                      r"-> running, back in \d+ us$", table, re.MULTILINE)
    tests.expect(found is not None, f"'crashes' has no protection-key fault in serial_console:\n{table}")
    tests.expect(int(found[1], 16) == int(landed[1], 16),
                 f"CR2 {found[1]} is not the nucleus word aimed at ({landed[1]})")
    tests.expect(int(found[2], 16) & 0x22 == 0x22, f"error code {found[2]}: not a write with the PK bit")
    mods = tests.command_output(output, "mods")
    tests.expect(re.search(r"^serial_console\s.*loaded, memory domain, crashed 1, restarted 1, running, "
                           r"last: #PF protection key$", mods, re.MULTILINE) is not None,
                 f"'mods' does not show the driver back in its memory domain:\n{mods}")
    _, before = load_progress(tests, output, 0)
    _, after = load_progress(tests, output, 1)
    tests.expect(all(later > earlier for earlier, later in zip(before, after)),
                 f"a load thread stopped across the crash: {before} -> {after}")
    tests.expect_clean_power_off(status, output)


def run_no_domains(tests, build: Path, accel: str) -> None:
    """A CPU without PKS (qemu64): no memory domains, said at boot and in `mods`; a wild
    write is refused rather than run (it would land in the nucleus), and every other fault
    is still contained."""
    status, output = boot_with_fixture(tests, build, accel, [
        "mods", "inject serial_console wild", "inject serial_console opcode", "wait 50", "crashes",
        "poweroff"], "--cpu", "qemu64")
    tests.expect_text(output, "containment: no memory domains: the CPU has no PKS (supervisor protection keys); "
                              "module code can write the nucleus's memory")
    tests.expect_text(tests.command_output(output, "inject serial_console wild"),
                      "inject: EOPNOTSUPP serial_console (no memory domain: the write would land in the nucleus)")
    mods = tests.command_output(output, "mods")
    tests.expect(re.search(r"^serial_console\s+1\s+0 direct.*verified\s+loaded$", mods, re.MULTILINE) is not None,
                 f"'mods' gives the driver a memory domain on a CPU without PKS:\n{mods}")
    tests.expect(re.search(r"^console_service\s.*loaded, no memory domain$", mods, re.MULTILINE) is not None,
                 f"'mods' does not say the tier-1 console has no memory domain:\n{mods}")
    table = tests.command_output(output, "crashes")
    tests.expect(re.search(r"^#1 .*#UD invalid opcode in serial_console .* -> running, back in \d+ us$", table,
                           re.MULTILINE) is not None, f"the #UD was not contained without domains:\n{table}")
    tests.expect_clean_power_off(status, output)


def run_thread(tests, build: Path, accel: str) -> None:
    """Faults in a module's own threads (kernel_services.Threads), whose bodies the nucleus
    runs guarded: a #UD as a workload thread begins, then unbounded recursion into a thread
    stack's guard page (#DF). Each is contained, the thread ends with EIO, the workload
    module is restarted, and its next threads run and count.

    The crash comes from a thread, after `load start` may have printed its prompt, so the
    next line waits for the restart's log line as well as for the prompt (`@wait`): a
    `load stop` typed at once could stop the thread before it crashed."""
    status, output = boot_with_fixture(tests, build, accel, [
        "inject workload opcode", "load start cpu 1", "@wait (crash 1)", "load stop",
        "inject workload stack", "load start cpu 1", "@wait (crash 2)", "load stop",
        "load start cpu 1", "wait 100", "load stats", "load stop", "crashes", "poweroff"], "--smp", "2")
    table = tests.command_output(output, "crashes")
    opcode = re.search(r"^#1 at \d+ ms on cpu \d: #UD invalid opcode in a thread of workload rip 0x[0-9a-f]+ "
                       r"\(workload\+0x[0-9a-f]+, umka_fault_site[.\w]*\) .* -> running, back in \d+ us$",
                       table, re.MULTILINE)
    tests.expect(opcode is not None, f"'crashes' has no #UD in a workload thread, restarted:\n{table}")
    overflow = re.search(r"^#2 at \d+ ms on cpu \d: #DF stack overflow in a thread of workload rip 0x[0-9a-f]+ "
                         r"\(workload\+0x[0-9a-f]+, umka_fault_recurse[.\w]*\) .* -> running, back in \d+ us$",
                         table, re.MULTILINE)
    tests.expect(overflow is not None, f"'crashes' has no stack overflow in a workload thread:\n{table}")
    # The fresh instance joins the thread that crashed (its threads are handed over).
    stops = re.findall(r"^load: stopped 1 threads\n(load: \d+ threads could not be joined)?", output, re.MULTILINE)
    tests.expect(stops == ["", "", ""], f"a crashed thread could not be joined after the restart: {stops}")
    _, counts = load_progress(tests, output, 0)
    tests.expect(len(counts) == 1 and counts[0] > 0, f"the fresh workload's thread did not count: {counts}")
    tests.expect_clean_power_off(status, output)


def run_handler(tests, build: Path, accel: str) -> None:
    """A fault in a driver's interrupt handler, which the nucleus's interrupt thread runs
    guarded: QEMU's edu device raises one MSI, the edu_driver fixture's handler takes #UD;
    the thread contains it, restarts the driver (its interrupt binding moves to the fresh
    instance) and the next interrupts are handled. Then an endless loop in the handler, which
    runs with interrupts on: the other CPU's tick finds the handler's thread over the 5000 ms
    limit and stops it with an NMI, and the driver is back again."""
    manifest_lines = "module edu_driver.umod tier=0 transport=direct\n"
    manifest = (HERE.parent.parent / "initramfs" / "default" / "manifest.txt").read_text()
    manifest += "module fault_fixture.umod tier=0 transport=direct\n" + manifest_lines
    files = {name + ".umod": tests.module_bytes(build, name)
             for name in tests.DEFAULT_MODULES + ("fault_fixture", "edu_driver")}
    with tempfile.NamedTemporaryFile(suffix=".cpio") as handle:
        handle.write(tests.bundle_with(build, manifest, files))
        handle.flush()
        status, output = tests.boot(build, accel, [
            "edu irq 3", "inject edu_driver opcode", "edu irq 1", "wait 500", "edu irq 5",
            "inject edu_driver hang", "edu irq 1", "wait 6000", "edu irq 4", "crashes", "poweroff"],
            "--bundle", handle.name, "--device", "edu", "--smp", "2")
    tests.expect_text(output, "edu: 3 interrupts raised one at a time, 3 handled by MSI")
    table = tests.command_output(output, "crashes")
    found = re.search(r"^#1 at \d+ ms on cpu \d: #UD invalid opcode in the interrupt handler of edu_driver rip "
                      r"0x[0-9a-f]+ \(edu_driver\+0x[0-9a-f]+, umka_fault_site[.\w]*\) .* -> running, back in \d+ us$",
                      table, re.MULTILINE)
    tests.expect(found is not None, f"'crashes' has no #UD in edu_driver's interrupt handler, restarted:\n{table}")
    tests.expect_text(output, "edu: 5 interrupts raised one at a time, 5 handled by MSI")
    hang = re.search(r"^#2 at (\d+) ms on cpu \d: watchdog: over 5000 ms in the interrupt handler of edu_driver rip "
                     r"0x[0-9a-f]+ \(edu_driver\+0x[0-9a-f]+, umka_fault_site[.\w]*\) .* -> running, back in \d+ us$",
                     table, re.MULTILINE)
    tests.expect(hang is not None, f"'crashes' has no watchdog stop of edu_driver's handler, restarted:\n{table}")
    tests.expect_text(output, "edu: 4 interrupts raised one at a time, 4 handled by MSI")
    # The fresh instances carried the set-up device over: none set it up again.
    tests.expect("edu_driver: error" not in output, "a restarted edu_driver set its device up again")
    tests.expect_clean_power_off(status, output)


def run_boot_start(tests, build: Path, accel: str) -> None:
    """A crash in a start function at boot, which the nucleus runs guarded like a swap's: the
    start_crash fixture's first start raises #UD. It is contained and reported "in the
    start-up of", the module is restarted from its bundle file with its state carried over,
    the fresh instance's start (the second) goes on, and the boot completes: the console
    answers and `crashes` has the report."""
    manifest = (HERE.parent.parent / "initramfs" / "default" / "manifest.txt").read_text()
    manifest += "module start_crash.umod tier=0 transport=direct\n"
    files = {name + ".umod": tests.module_bytes(build, name)
             for name in tests.DEFAULT_MODULES + ("start_crash",)}
    with tempfile.NamedTemporaryFile(suffix=".cpio") as handle:
        handle.write(tests.bundle_with(build, manifest, files))
        handle.flush()
        status, output = tests.boot(build, accel, ["crashes", "mods", "poweroff"], "--bundle", handle.name,
                                    "--smp", "2")
    tests.expect_text(output, "start_crash: start 1: raising #UD")
    tests.expect(re.search(r"containment: crash 1: #UD invalid opcode in the start-up of 'start_crash' at 0x[0-9a-f]+ "
                           r"\(start_crash\+0x[0-9a-f]+, ", output) is not None,
                 "the #UD in start_crash's boot start was not contained and attributed")
    tests.expect(re.search(r"containment: 'start_crash' restarted from start_crash\.umod in \d+ us \(crash 1\)",
                           output) is not None, "start_crash was not restarted after its start crashed")
    tests.expect_text(output, "start_crash: start 2: started")
    table = tests.command_output(output, "crashes")
    tests.expect(re.search(r"^#1 at \d+ ms on cpu \d: #UD invalid opcode in the start-up of start_crash rip "
                           r"0x[0-9a-f]+ \(start_crash\+0x[0-9a-f]+, .*::start\) cr2 .* -> running, back in \d+ us$",
                           table, re.MULTILINE) is not None, f"'crashes' has no report of the boot start's #UD:\n{table}")
    mods = tests.command_output(output, "mods")
    tests.expect(re.search(r"^start_crash\s+1\s+0 direct.*loaded, crashed 1, restarted 1, running", mods, re.MULTILINE)
                 is not None, f"'mods' does not list start_crash as restarted and running:\n{mods}")
    tests.expect_clean_power_off(status, output)


def run_disk_in_flight(tests, build: Path, accel: str) -> None:
    """A crash in the disk driver with I/O in flight, twice: while `blk sha256` has requests
    queued on the virtio-blk disk, virtio_blk's MSI-X handler takes #UD. The interrupt thread
    contains it and restarts the driver with its state: the fresh instance takes the device
    over on the handles the crashed one held (reset; no claim, window or buffer taken
    again), the requests in flight end with EIO once, and the retry reads what the host's
    image holds. A ring caller of the serial driver keeps calling throughout, and the second
    restart leaks no frame, nucleus object or capability."""
    with tempfile.TemporaryDirectory() as directory:
        disk = Path(directory) / "vda.img"
        original = os.urandom(4 << 20)
        disk.write_bytes(original)
        crash_and_retry = ["inject virtio_blk opcode", "blk sha256 vda 0 8192", "wait 200",
                           "blk sha256 vda 0 8192", "heap", "mem", "caps virtio_blk"]
        status, output = boot_with_fixture(tests, build, accel, [
            "load start ring 1", "blk sha256 vda 0 8192", "caps virtio_blk", "load stats",
            *crash_and_retry, *crash_and_retry, "load stats", "crashes", "mods", "load stop",
            "poweroff"], "--machine", "q35", "--disk", str(disk), "--smp", "2")
    digest = f"vda 0+8192 sha256 {hashlib.sha256(original).hexdigest()}"
    tests.expect_text(tests.command_output(output, "blk sha256 vda 0 8192", 0), digest)
    for crash in (1, 2):
        failed = tests.command_output(output, "blk sha256 vda 0 8192", 2 * crash - 1)
        tests.expect(re.search(r"blk: vda: sector \d+: EIO", failed) is not None,
                     f"the read across crash {crash} did not end with EIO:\n{failed}")
        tests.expect_text(tests.command_output(output, "blk sha256 vda 0 8192", 2 * crash), digest)
    tests.expect(len(re.findall(r"containment: crash \d: #UD invalid opcode in the interrupt handler of "
                                r"'virtio_blk'", output)) == 2, "the #UDs in virtio_blk's handler were not contained")
    taken = re.findall(r"virtio-blk 00:0[0-9a-f]\.0: taken over after a crash: reset, (\d+) request\(s\) in "
                       r"flight failed \(EIO\); 8192 sectors", output)
    tests.expect(len(taken) == 2 and all(int(count) >= 1 for count in taken),
                 f"the restarted driver did not take the disk over with requests in flight failed: {taken}")
    print(f"requests in flight failed with EIO by each takeover: {', '.join(taken)}")
    tests.expect("request timed out" not in output, "a request waited for its timeout instead of EIO")
    table = tests.command_output(output, "crashes")
    recovered = re.findall(r"^#\d at \d+ ms on cpu \d: #UD invalid opcode in the interrupt handler of virtio_blk "
                           r"rip 0x[0-9a-f]+ \(virtio_blk\+0x[0-9a-f]+, umka_fault_site[.\w]*\) .* -> running, "
                           r"back in (\d+) us$", table, re.MULTILINE)
    tests.expect(len(recovered) == 2, f"'crashes' has not two restarted #UDs in virtio_blk's handler:\n{table}")
    print(f"virtio_blk back in (us): {', '.join(recovered)}")
    mods = tests.command_output(output, "mods")
    tests.expect(re.search(r"^virtio_blk\s+\d+\s+0 direct.*loaded, crashed 2, restarted 2, running", mods,
                           re.MULTILINE) is not None, f"'mods' does not list virtio_blk as restarted:\n{mods}")
    expect_one_caller_kept_calling(tests, output, "the disk driver's crashes")
    expect_second_restart_leaked_nothing(tests, output, 0)
    held = [sorted(re.findall(r"^[ \t]+0x[0-9a-f]+[ \t]+(\S+)[ \t]+\S+[ \t]*(.*?)[ \t]*$",
                              tests.command_output(output, "caps virtio_blk", index), re.MULTILINE))
            for index in range(3)]
    tests.expect(held[0] == held[1] == held[2] and ("dma-buffer", "") in held[0],
                 f"a restarted driver holds other capabilities: {held}")
    tests.expect_clean_power_off(status, output)


def run_direct_call(tests, build: Path, accel: str) -> None:
    """A crash in a direct call into a tier-1 module: the bundle places virtio_blk (and the PCI
    bus driver it calls, from inside its own domain) at tier 1, so block_console's direct
    calls to it go through the nucleus's trampoline (guarded, in virtio_blk's memory domain). A null dereference in the next call is contained "in a
    direct call into virtio_blk" on block_console's own thread, that call answers EIO, the
    driver is restarted (taking its disk over), and the retry reads what the host's image
    holds."""
    manifest = (HERE.parent.parent / "initramfs" / "default" / "manifest.txt").read_text()
    manifest = manifest.replace("module virtio_blk.umod tier=0 transport=direct",
                                "module virtio_blk.umod tier=1 transport=direct")
    manifest = manifest.replace("module pci_bus_driver.umod tier=0 transport=direct",
                                "module pci_bus_driver.umod tier=1 transport=direct")
    tests.expect("virtio_blk.umod tier=1" in manifest and "pci_bus_driver.umod tier=1" in manifest,
                 "the default manifest has no virtio_blk or pci_bus_driver line to change")
    manifest += "module fault_fixture.umod tier=0 transport=direct\n"
    files = {name + ".umod": tests.module_bytes(build, name)
             for name in tests.DEFAULT_MODULES + ("fault_fixture",)}
    with tempfile.TemporaryDirectory() as directory:
        disk = Path(directory) / "vda.img"
        original = os.urandom(4 << 20)
        disk.write_bytes(original)
        bundle = Path(directory) / "bundle.cpio"
        bundle.write_bytes(tests.bundle_with(build, manifest, files))
        status, output = tests.boot(build, accel, [
            "blk sha256 vda 0 8192", "inject virtio_blk null", "blk sha256 vda 0 8192", "wait 200",
            "blk sha256 vda 0 8192", "crashes", "mods", "measure direct 1000", "poweroff"],
            "--bundle", str(bundle), "--machine", "q35", "--disk", str(disk), "--smp", "2")
    tests.expect(re.search(r"containment: block_console -> virtio_blk block_device\.BlockDevice: direct calls "
                           r"through the nucleus's trampoline", output) is not None,
                 "block_console's binding to the tier-1 virtio_blk is not guarded")
    # virtio_blk's start and restarts run in its own memory domain and call the tier-1 bus
    # driver through a guard of their own: a guarded call made from inside a domain.
    tests.expect(re.search(r"containment: virtio_blk -> pci_bus_driver pci_bus\.PciBus: direct calls "
                           r"through the nucleus's trampoline", output) is not None,
                 "virtio_blk's binding to the tier-1 bus driver is not guarded")
    digest = f"vda 0+8192 sha256 {hashlib.sha256(original).hexdigest()}"
    tests.expect_text(tests.command_output(output, "blk sha256 vda 0 8192", 0), digest)
    # The crashed call answers EIO, or zero from a value method (device_count: then "ENODEV").
    failed = tests.command_output(output, "blk sha256 vda 0 8192", 1)
    tests.expect(re.search(r"blk: vda: .*(EIO|ENODEV)", failed) is not None,
                 f"the read whose call crashed did not fail:\n{failed}")
    tests.expect(re.search(r"containment: crash 1: #PF page fault in a direct call into 'virtio_blk' at 0x[0-9a-f]+ "
                           r"\(virtio_blk\+0x[0-9a-f]+, umka_fault_site", output) is not None,
                 "the #PF in a direct call into virtio_blk was not contained and attributed")
    tests.expect_text(tests.command_output(output, "blk sha256 vda 0 8192", 2), digest)
    table = tests.command_output(output, "crashes")
    recovered = re.search(r"^#1 at \d+ ms on cpu \d: #PF page fault in a direct call into virtio_blk rip 0x[0-9a-f]+ "
                          r"\(virtio_blk\+0x[0-9a-f]+, umka_fault_site[.\w]*\) .* -> running, back in (\d+) us$",
                          table, re.MULTILINE)
    tests.expect(recovered is not None, f"'crashes' has no restarted #PF in a direct call into virtio_blk:\n{table}")
    print(f"virtio_blk back in {recovered[1]} us after a crash in a direct call")
    mods = tests.command_output(output, "mods")
    tests.expect(re.search(r"^virtio_blk\s+\d+\s+1 direct.*loaded, memory domain, crashed 1, restarted 1, running",
                           mods, re.MULTILINE) is not None, f"'mods' does not list virtio_blk at tier 1, restarted:\n{mods}")
    # The console service at tier 1, called from a workload thread through its guard.
    measured = tests.command_output(output, "measure direct 1000")
    tests.expect(re.search(r"^direct call \(console_command\.Interrupt\.poll\): [\d.]+ ns; baseline call "
                           r"\(kernel_services\.Log\.level\) [\d.]+ ns; ratio [\d.]+x \(1000 rounds each\)$",
                           measured, re.MULTILINE) is not None, f"'measure direct' printed no figures:\n{measured}")
    tests.expect_clean_power_off(status, output)
