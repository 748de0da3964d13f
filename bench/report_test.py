#!/usr/bin/env python3
"""Host test of the pure parts of `./umka bench`: baseline labels, ratios and spreads from
Google Benchmark JSON (bench/report.py), the guest-output parsing of bench/run_benchmarks.py,
the Linux baseline's initramfs and the docs/performance.md renderer on a recorded report.
A change that drops a ratio, a row or a placeholder fails here.

    python3 bench/report_test.py [--template docs/performance.md.in]
"""

from __future__ import annotations

import argparse
import copy
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "test" / "qemu"))
sys.path.insert(0, str(HERE / "evolution"))
import evolution_bench  # noqa: E402
import linux_baseline  # noqa: E402
import render_performance  # noqa: E402
import report  # noqa: E402
import run_benchmarks  # noqa: E402

TEMPLATE = HERE.parent / "docs" / "performance.md.in"


def case(name: str, real_time: float, label: str | None = None, repetition: int = 0,
         unit: str = "ns", run_name: str | None = None, **extra) -> dict:
    entry = {"name": name, "run_name": run_name or name, "run_type": "iteration",
             "repetition_index": repetition, "real_time": real_time, "cpu_time": real_time,
             "time_unit": unit, "iterations": 1000}
    if label is not None:
        entry["label"] = label
    entry.update(extra)
    return entry


def recorded_suite() -> dict:
    """What a suite with repetitions prints: iterations, then aggregates (to be ignored)."""
    benchmarks = []
    for repetition, (ring, boost, heap, malloc) in enumerate([(100, 200, 30, 10), (120, 200, 33, 11),
                                                               (110, 220, 36, 12)]):
        benchmarks += [
            # The label names the case without its /real_time suffix: still found.
            case("BM_RingThroughput/real_time", ring, "baseline=BM_BoostThroughput", repetition),
            case("BM_BoostThroughput/real_time", boost, None, repetition),
            case("BM_HeapPair/64/threads:2", heap, "baseline=BM_MallocPair/64/threads:2", repetition),
            case("BM_MallocPair/64/threads:2", malloc, None, repetition),
            case("BM_Verify/4096", heap / 1000, "baseline=BM_Sodium/4096; same key", repetition, unit="us"),
            case("BM_Sodium/4096", malloc, None, repetition),
            case("BM_ElfLoad", 5, "baseline=none", repetition),
            case("BM_Orphan", 5, "baseline=BM_NotInThisRun", repetition),
            case("BM_Unlabelled", 5, None, repetition),
        ]
    benchmarks.append(case("BM_RingThroughput/real_time_median", 110, "baseline=BM_BoostThroughput",
                           run_name="BM_RingThroughput/real_time", run_type="aggregate",
                           aggregate_name="median"))
    benchmarks.append({"name": "BM_Broken", "run_name": "BM_Broken", "run_type": "iteration",
                       "error_occurred": True, "error_message": "allocate failed"})
    return {"context": {}, "benchmarks": benchmarks}


class LabelTest(unittest.TestCase):
    def test_parsing(self) -> None:
        self.assertEqual(report.baseline_of("baseline=BM_X/real_time"), "BM_X/real_time")
        self.assertEqual(report.baseline_of("128 B, baseline=BM_Y/4, copies 128"), "BM_Y/4")
        self.assertEqual(report.baseline_of("baseline=none"), report.NO_COMPETITOR)
        self.assertIsNone(report.baseline_of(""))
        self.assertIsNone(report.baseline_of(None))
        self.assertIsNone(report.baseline_of("bytes=128"))


class GoogleBenchmarkTest(unittest.TestCase):
    def setUp(self) -> None:
        self.rows = {entry["figure"]: entry for entry in report.google_benchmark_rows("ring_bench", recorded_suite())}

    def test_every_case_once_and_aggregates_ignored(self) -> None:
        self.assertEqual(len(self.rows), 10)
        self.assertNotIn("BM_RingThroughput/real_time_median", self.rows)
        self.assertEqual(self.rows["BM_RingThroughput/real_time"]["spread"]["n"], 3)

    def test_ratio_of_medians_and_per_repetition_spread(self) -> None:
        ring = self.rows["BM_RingThroughput/real_time"]
        self.assertEqual(ring["role"], "measured")
        self.assertEqual(ring["baseline"], "BM_BoostThroughput/real_time")
        self.assertAlmostEqual(ring["ratio"], 110 / 200)
        self.assertEqual(ring["spread"], {"min": 100, "median": 110, "max": 120, "n": 3})
        self.assertAlmostEqual(ring["ratio_spread"]["min"], 0.5)
        self.assertAlmostEqual(ring["ratio_spread"]["max"], 0.6)
        self.assertEqual(self.rows["BM_BoostThroughput/real_time"]["role"], "baseline")

    def test_threads_names_and_units(self) -> None:
        heap = self.rows["BM_HeapPair/64/threads:2"]
        self.assertAlmostEqual(heap["ratio"], 3.0)
        verify = self.rows["BM_Verify/4096"]  # 33 ns measured in us against 11 ns
        self.assertAlmostEqual(verify["value"], 33)
        self.assertAlmostEqual(verify["ratio"], 3.0)

    def test_no_competitor_missing_and_failed_are_said(self) -> None:
        self.assertEqual(self.rows["BM_ElfLoad"]["role"], "alone")
        self.assertEqual(report.ratio_text(self.rows["BM_ElfLoad"]), "no competitor")
        orphan = self.rows["BM_Orphan"]
        self.assertEqual(orphan["role"], "missing")
        self.assertIn("BM_NotInThisRun", orphan["note"])
        self.assertEqual(self.rows["BM_Unlabelled"]["role"], "unnamed")
        self.assertEqual(report.ratio_text(self.rows["BM_Unlabelled"]), "no baseline named")
        self.assertEqual(self.rows["BM_Broken"]["role"], "failed")
        self.assertIn("allocate failed", self.rows["BM_Broken"]["note"])

    def test_console_table_prints_every_ratio(self) -> None:
        document = recorded_report()
        table = report.console_table(document)
        for entry in document["rows"]:
            self.assertIn(entry["figure"], table)
            if entry["role"] == "measured":
                self.assertIn(f"{entry['ratio']:.2f}x", table)
        self.assertIn("accelerator tcg", table)
        self.assertIn("QEMU", table)


class GuestParsingTest(unittest.TestCase):
    OUTPUT = ("umka> measure switch\ncontext switch: 18000 ns per switch (yield + pick + switch, 40000 "
              "switches); yield without a switch: 3000 ns; ratio 6.00\numka> measure ring\n"
              "ring round trip (CharDevice.info, caller cpu 0, provider cpu 2): 3249 ns per call over "
              "20000 calls (3 doorbells)\ndirect call through the service slot: 183 ns per call; "
              "ring/direct 17.75\none cache line to cpu 2 and back: 1625 ns per round trip; ring/ping-pong "
              "2.00x\numka> measure caps\ncapability lookup (service_directory.Directory."
              "provider of kernel_services.Log): 845.20 ns; baseline call (kernel_services.Log.level) "
              "18.60 ns; ratio 45.44 (100000 rounds each)\numka> mods\n"
              "serial_console          1    1 ring             3       16    1200    900  verified   loaded\numka> poweroff\n")

    def runs(self) -> list[dict]:
        return [{"output": self.OUTPUT}, {"output": self.OUTPUT.replace("18000", "20000")}]

    def test_switch_ring_caps(self) -> None:
        switch, yield_row = run_benchmarks.pair_rows(
            "guest tcg", self.runs(), "measure switch",
            r"context switch: (\d+) ns per switch.*?yield without a switch: (\d+) ns", "switch", "yield")
        self.assertEqual(switch["value"], 19000)
        self.assertAlmostEqual(switch["ratio"], 19000 / 3000)
        self.assertEqual(yield_row["role"], "baseline")
        rows = run_benchmarks.pair_rows(
            "guest tcg", self.runs(), "measure caps",
            r"capability lookup \(.*?\): ([\d.]+) ns; baseline call \(.*?\) ([\d.]+) ns", "caps", "call")
        self.assertAlmostEqual(rows[0]["ratio"], 845.2 / 18.6)
        ring, direct = run_benchmarks.pair_rows("guest tcg", self.runs(), "measure ring",
                                                run_benchmarks.RING_VERSUS_DIRECT, "ring", "direct")
        self.assertAlmostEqual(ring["ratio"], 3249 / 183)
        ring, line = run_benchmarks.pair_rows("guest tcg", self.runs(), "measure ring",
                                              run_benchmarks.RING_VERSUS_LINE, "ring", "line")
        self.assertAlmostEqual(ring["ratio"], 3249 / 1625)
        self.assertEqual(line["value"], 1625)

    def test_unparsable_output_is_a_failed_row(self) -> None:
        rows = run_benchmarks.pair_rows("guest tcg", [{"output": "umka> measure ring\nusage\numka> "}],
                                        "measure ring", r"round trip (\d+).*direct (\d+)", "ring", "direct")
        self.assertEqual([entry["role"] for entry in rows], ["failed"])

    def test_modules(self) -> None:
        (entry,) = run_benchmarks.module_rows("guest tcg", self.runs())
        self.assertEqual(entry["value"], 1200)
        self.assertIn("900 us", entry["note"])


class EvolutionParsingTest(unittest.TestCase):
    SECTION = ("evolve cycle: 6 of 6 swaps of scheduler done (0 left an image parked)\n"
               "  pause           min 54.3 us  median 69.0 us  max 721.7 us\n"
               "  state transfer  min 22.5 us  median 36.0 us  max 148.0 us\n"
               "  whole swap      min 52000.1 us  median 52600.0 us  max 60600.0 us\n")

    def test_spread_rows(self) -> None:
        self.assertEqual(evolution_bench.spread(self.SECTION, "pause"), (54.3, 69.0, 721.7))
        self.assertEqual(evolution_bench.spread(self.SECTION, "state transfer"), (22.5, 36.0, 148.0))
        with self.assertRaises(evolution_bench.MeasureError):
            evolution_bench.spread(self.SECTION, "gathering")

    def test_table_row(self) -> None:
        result = {"smp": 4, "service": "scheduler", "swaps": 6, "attempted": 6,
                  "empty_stop_the_world_us": [8.5, 0.3, 0.4], "pause": (54.3, 69.0, 721.7),
                  "state_transfer": (22.5, 36.0, 148.0), "gathering": (1.0, 2.0, 3.0),
                  "whole_swap": (52000.1, 52600.0, 60600.0), "prebuilt_current": (5, 6)}
        self.assertEqual(evolution_bench.table_row(result),
                         "| 4 | scheduler | 6/6 | 54.3 / 69 / 721.7 | 22.5 / 36 / 148 | 1 / 2 / 3 | "
                         "52000.1 / 52600 / 60600 | 0.4 | 172.50 | 5/6 |")


class InitramfsTest(unittest.TestCase):
    def test_no_kernel_is_said(self) -> None:
        with self.assertRaisesRegex(linux_baseline.Unavailable, "linux-image-amd64"):
            linux_baseline.find_kernel(Path("/nonexistent-boot"))

    @staticmethod
    def records(archive: bytes) -> list[tuple[str, list[int], bytes]]:
        found, offset = [], 0
        while True:
            header = archive[offset:offset + 110]
            fields = [int(header[6 + 8 * index:14 + 8 * index], 16) for index in range(13)]
            name_size, file_size = fields[11], fields[6]
            name = archive[offset + 110:offset + 110 + name_size - 1].decode()
            offset += 110 + name_size
            offset += -offset % 4
            data = archive[offset:offset + file_size]
            offset += file_size + (-file_size % 4)
            if name == "TRAILER!!!":
                return found
            found.append((name, fields, data))

    def test_block_baseline_carries_its_modules_and_script(self) -> None:
        import block_bench
        init = block_bench.linux_init()
        archive = linux_baseline.initramfs(b"BUSYBOX", init, (("virtio_blk.ko", b"MODULE"),))
        records = {name: data for name, _fields, data in self.records(archive)}
        self.assertEqual(records["lib/virtio_blk.ko"], b"MODULE")
        self.assertEqual(records["init"].decode(), init)
        self.assertIn("insmod /lib/virtio_blk.ko", init)
        self.assertEqual(init.count("read start rest < /proc/uptime"), len(block_bench.WORKLOADS))
        self.assertIn(block_bench.MARKER, init)

    def test_newc_records(self) -> None:
        archive = linux_baseline.initramfs(b"BUSYBOX")
        self.assertEqual(len(archive) % 512, 0)
        names, offset = [], 0
        while True:
            header = archive[offset:offset + 110]
            self.assertEqual(header[:6], b"070701")
            fields = [int(header[6 + 8 * index:14 + 8 * index], 16) for index in range(13)]
            name_size, file_size = fields[11], fields[6]
            name = archive[offset + 110:offset + 110 + name_size - 1].decode()
            offset += 110 + name_size
            offset += -offset % 4
            data = archive[offset:offset + file_size]
            offset += file_size + (-file_size % 4)
            if name == "TRAILER!!!":
                break
            names.append(name)
            if name == "init":
                self.assertIn(linux_baseline.MARKER, data.decode())
                self.assertIn("poweroff -f", data.decode())
            if name == "dev/console":
                self.assertEqual((fields[1] & 0o170000, fields[9], fields[10]), (0o020000, 5, 1))
        self.assertEqual(names, ["bin", "dev", "dev/console", "bin/busybox", "init"])


def recorded_report() -> dict:
    rows = report.google_benchmark_rows("ring_bench", recorded_suite())
    linux = report.row("guest tcg", "Linux 6.1: QEMU start -> /init, smp 1", [2.7e9, 2.9e9], "ns")
    umka = report.divide(report.row("guest tcg", "UmkaOS: QEMU start -> umka> prompt, smp 1",
                                    [0.4e9, 0.5e9], "ns"), linux)
    rows += [umka, linux, report.unavailable_row("guest tcg", "Linux: smp 4", "no /boot/vmlinuz-*")]
    rows.append(report.row("swap tcg", "swap pause, scheduler, smp 1", [30.0], "us"))
    rows.append(report.row("newsuite_bench", "BM_New", [1.0], "ns"))
    return {"schema": report.SCHEMA, "rows": rows,
            "header": {"date": "2026-12-06 07:00 UTC", "commit": "abc1234", "mode": "quick", "minutes": 3.5,
                       "machine": {"cpu": "Test CPU", "cores": 2, "load_average": "1.00 1.00 1.00", "virtual": True},
                       "qemu": "QEMU emulator version 7.2.0", "accelerator": "tcg",
                       "accelerator_reason": "KVM unusable here", "boots": 2, "repetitions": 3,
                       "swaps_per_row": 6, "skipped": []},
            "details": {"guest": {"boot_steps": {"1": {"early serial": 400.0, "console ready": 9.0}}}}}


class RenderTest(unittest.TestCase):
    template = TEMPLATE

    def test_every_row_and_ratio_in_the_page(self) -> None:
        document = recorded_report()
        page = render_performance.render(document, self.template.read_text())
        self.assertNotIn("{{", page)
        for entry in document["rows"]:
            self.assertIn(entry["figure"].replace("|", "\\|"), page)
            if entry["role"] == "measured":
                self.assertIn(f"{entry['ratio']:.2f}x", page)
        self.assertIn("2026-12-06 07:00 UTC", page)
        self.assertIn("**quick**", page)
        self.assertIn("accelerator **tcg**", page)
        self.assertIn("| early serial | 400 |", page)
        self.assertIn("no /boot/vmlinuz-*", page)

    def test_rows_without_a_section_are_not_dropped(self) -> None:
        page = render_performance.render(recorded_report(), "# P\n{{header}}\n{{table:ring_bench}}\n")
        self.assertIn("## Other figures", page)
        self.assertIn("BM_New", page)
        self.assertIn("swap pause, scheduler, smp 1", page)

    def test_bad_template_and_schema(self) -> None:
        with self.assertRaises(render_performance.TemplateError):
            render_performance.render(recorded_report(), "{{figures}}\n")
        document = copy.deepcopy(recorded_report())
        document["schema"] = 0
        with self.assertRaises(render_performance.TemplateError):
            render_performance.render(document, "{{header}}\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    arguments, rest = parser.parse_known_args()
    RenderTest.template = arguments.template
    unittest.main(argv=[sys.argv[0]] + rest)
