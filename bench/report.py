"""The pure half of `./umka bench`: rows, ratios and the console table.

A row is one figure of the report (a dict, stored as such in build/bench/report.json):

    suite, figure         where it comes from and what it is
    value, unit           the median over the repetitions
    spread                {"min", "median", "max", "n"} over the repetitions (same unit)
    role                  "measured"  divided by its baseline (baseline, baseline_value, ratio,
                                      ratio_spread: min/max of the per-repetition ratios)
                          "baseline"  a competitor other rows are divided by
                          "alone"     no competitor exists (note says why)
                          "missing"   its baseline was named but not measured (note says which)
                          "failed"    the figure could not be measured (note says why)
                          "unavailable" a baseline this host cannot run (note says why)
                          "unnamed"   a host case with no baseline label that no case names
    note                  free text

Google Benchmark cases name their baseline with state.SetLabel("baseline=<name>") (the JSON
"name"/"run_name" of the other case), or "baseline=none" when nothing competes; a case
without a label is a baseline. Ratios are value / baseline_value: below 1.0 is faster.
"""

from __future__ import annotations

import re
import statistics

SCHEMA = 1
NO_COMPETITOR = "none"
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# Google Benchmark suffixes a case name with how it was timed; a label may name either form.
TIMING_SUFFIX = re.compile(r"/(real_time|process_time|manual_time)(?=/|$)")


def baseline_of(label: str | None) -> str | None:
    """The case a label names as its baseline, NO_COMPETITOR, or None (no label: a baseline)."""
    if not label:
        return None
    match = re.search(r"baseline=([^\s,;]+)", label)
    return match.group(1) if match else None


def spread(values: list[float]) -> dict:
    return {"min": min(values), "median": statistics.median(values), "max": max(values),
            "n": len(values)}


def row(suite: str, figure: str, values: list[float], unit: str, note: str = "") -> dict:
    return {"suite": suite, "figure": figure, "value": statistics.median(values), "unit": unit,
            "spread": spread(values), "samples": list(values), "role": "baseline",
            "baseline": None, "baseline_value": None, "ratio": None, "ratio_spread": None,
            "note": note}


def failed_row(suite: str, figure: str, reason: str) -> dict:
    return {"suite": suite, "figure": figure, "value": None, "unit": "", "spread": None,
            "samples": [], "role": "failed", "baseline": None, "baseline_value": None,
            "ratio": None, "ratio_spread": None, "note": reason}


def unavailable_row(suite: str, figure: str, reason: str) -> dict:
    entry = failed_row(suite, figure, reason)
    entry["role"] = "unavailable"
    return entry


def alone(entry: dict, reason: str = "") -> dict:
    """No competitor: the ratio column says so, `reason` what else the reader needs."""
    entry["role"] = "alone"
    entry["note"] = "; ".join(text for text in (entry["note"], reason) if text)
    return entry


def divide(entry: dict, baseline: dict) -> dict:
    """Makes `entry` a ratio of `baseline` (both rows, same unit), pairing repetitions in order."""
    entry["role"] = "measured"
    entry["baseline"] = baseline["figure"]
    entry["baseline_value"] = baseline["value"]
    scale = UNIT_NS.get(baseline["unit"], 1.0) / UNIT_NS.get(entry["unit"], 1.0)
    if baseline["unit"] not in UNIT_NS or entry["unit"] not in UNIT_NS:
        scale = 1.0  # same non-time unit (KiB, cycles): the caller passes matching rows
    base = baseline["value"] * scale
    entry["ratio"] = entry["value"] / base if base else None
    pairs = [(a, b * scale) for a, b in zip(entry["samples"], baseline["samples"]) if b]
    if len(pairs) > 1:
        ratios = [a / b for a, b in pairs]
        entry["ratio_spread"] = {"min": min(ratios), "max": max(ratios), "n": len(ratios)}
    return entry


def google_benchmark_rows(suite: str, document: dict) -> list[dict]:
    """Rows for one suite's --benchmark_format=json output, ratios resolved within the suite."""
    cases: dict[str, dict] = {}
    for case in document.get("benchmarks", []):
        if case.get("run_type", "iteration") != "iteration":
            continue  # aggregates: the spread is recomputed from the repetitions
        name = case.get("run_name") or case["name"]
        entry = cases.setdefault(name, {"values": [], "label": None, "error": None})
        if case.get("error_occurred"):
            entry["error"] = case.get("error_message", "error")
            continue
        entry["values"].append(case["real_time"] * UNIT_NS.get(case.get("time_unit", "ns"), 1.0))
        entry["label"] = entry["label"] or case.get("label")
    rows: dict[str, dict] = {}
    for name, entry in cases.items():
        if entry["error"] or not entry["values"]:
            rows[name] = failed_row(suite, name, f"the case failed: {entry['error']}")
        else:
            rows[name] = row(suite, name, entry["values"], "ns")
    plain = {TIMING_SUFFIX.sub("", name): name for name in rows}
    for name, entry in cases.items():
        current = rows[name]
        target = baseline_of(entry["label"])
        if current["role"] == "failed" or target is None:
            continue
        if target == NO_COMPETITOR:
            current["role"] = "alone"
            continue
        found = target if target in rows else plain.get(TIMING_SUFFIX.sub("", target))
        if found is None or rows[found]["role"] == "failed":
            current["role"] = "missing"
            current["note"] = f"baseline {target} not measured in this run"
            continue
        divide(current, rows[found])
    mark_unnamed(list(rows.values()))
    # Each baseline right after the cases divided by it (the JSON's order is the run's,
    # shuffled by --benchmark_enable_random_interleaving).
    return sorted(rows.values(), key=lambda entry: (entry["baseline"] or entry["figure"],
                                                    entry["role"] == "baseline", entry["figure"]))


def mark_unnamed(rows: list[dict]) -> list[dict]:
    """A row left as a baseline that no row of its suite is divided by is not a competitor of
    anything (a host case that broke the label convention): it says so rather than pass for
    a baseline."""
    named = {(entry["suite"], entry["baseline"]) for entry in rows if entry["role"] == "measured"}
    for entry in rows:
        if entry["role"] == "baseline" and (entry["suite"], entry["figure"]) not in named:
            entry["role"] = "unnamed"
            entry["note"] = "names no baseline (state.SetLabel(\"baseline=...\")) and is none"
    return rows


def human(value: float | None, unit: str) -> str:
    """A value with a readable unit: times scale from ns up to s, other units stay."""
    if value is None:
        return "-"
    if unit in UNIT_NS:
        nanoseconds = value * UNIT_NS[unit]
        for name, size in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
            if nanoseconds >= size:
                return f"{nanoseconds / size:.3g} {name}" if nanoseconds / size < 100 else \
                    f"{nanoseconds / size:.0f} {name}"
        return f"{nanoseconds:.3g} ns"
    return f"{value:.4g} {unit}"


def ratio_text(entry: dict) -> str:
    if entry["role"] == "measured" and entry["ratio"] is not None:
        text = f"{entry['ratio']:.2f}x"
        if entry.get("ratio_spread"):
            text += f" ({entry['ratio_spread']['min']:.2f}-{entry['ratio_spread']['max']:.2f})"
        return text
    return {"baseline": "(baseline)", "alone": "no competitor", "missing": "no baseline",
            "failed": "failed", "unavailable": "not run",
            "unnamed": "no baseline named"}.get(entry["role"], "-")


def spread_text(entry: dict) -> str:
    spread_of = entry.get("spread")
    if not spread_of:
        return "-"
    unit = entry["unit"]
    return (f"{human(spread_of['min'], unit)} / {human(spread_of['max'], unit)}"
            f" (n={spread_of['n']})")


def columns(entry: dict) -> list[str]:
    baseline_value = human(entry["baseline_value"], entry["unit"]) if entry["baseline"] else ""
    return [entry["suite"], entry["figure"], human(entry["value"], entry["unit"]),
            entry["baseline"] or "", baseline_value, ratio_text(entry), spread_text(entry),
            entry["note"]]


HEADINGS = ["suite", "figure", "median", "baseline", "baseline median", "ratio",
            "min / max (repetitions)", "note"]


def header_lines(header: dict) -> list[str]:
    machine = header["machine"]
    return [f"date {header['date']}, commit {header['commit']}, {header['mode']} run",
            f"machine: {machine['cpu']}, {machine['cores']} cores, load average "
            f"{machine['load_average']} at the start",
            f"QEMU {header['qemu']}, accelerator {header['accelerator']}"
            + (f" ({header['accelerator_reason']})" if header.get("accelerator_reason") else "")]


def console_table(report: dict) -> str:
    """The one table `./umka bench` prints: header lines, then aligned columns."""
    table = [HEADINGS] + [columns(entry) for entry in report["rows"]]
    widths = [max(len(line[index]) for line in table) for index in range(len(HEADINGS) - 1)]
    lines = header_lines(report["header"]) + [""]
    for number, line in enumerate(table):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[-1])
        if number == 0:
            lines.append("  ".join("-" * width for width in widths) + "  ----")
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(rows: list[dict]) -> str:
    """The same rows as a Markdown table (docs/performance.md), without the suite column."""
    lines = ["| " + " | ".join(HEADINGS[1:]) + " |", "|" + "---|" * (len(HEADINGS) - 1)]
    for entry in rows:
        cells = [cell.replace("|", "\\|") for cell in columns(entry)[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
