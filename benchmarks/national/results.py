"""``benchmarks/results/national.json`` (per size, per stage: seconds, peak MiB, ratios; scaling; targets) and
``national.png`` (time against rows per stage). Sizes measured in earlier runs are kept unless re-measured,
so 5M can be run on its own after 100k and 1M; each size records when it was measured."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"
JSON_PATH = RESULTS_DIR / "national.json"
PNG_PATH = RESULTS_DIR / "national.png"
TARGET_ROWS = 5_000_000
GIB = 1024.0

Record = dict[str, Any]


def source() -> dict[str, Any]:
    """Which disburse was measured: its folder (PYTHONPATH may point at another checkout), the commit of the
    repository holding it and whether its disburse/ had uncommitted changes (others' work in progress)."""
    import disburse

    folder = Path(disburse.__file__).resolve().parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    marker = folder.parent / "COMMIT"  # an exported snapshot (git archive) may name its commit there
    return {
        "package": str(folder),
        "commit": git("rev-parse", "--short", "HEAD")
        or (marker.read_text().strip() if marker.exists() else ""),
        "uncommitted_changes": bool(git("status", "--porcelain", "--", ".")),
    }


def machine() -> dict[str, Any]:
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(pages / 2**30, 1),
        "python": platform.python_version(),
        "polars": pl.__version__,
        "load_average_at_write": [round(x, 2) for x in os.getloadavg()],
    }


def ratios(stages: dict[str, Record]) -> dict[str, float]:
    def s(name: str) -> float | None:
        return stages[name]["seconds"] if name in stages else None

    out: dict[str, float] = {}
    pairs = {
        "core_over_join": ("core", "baseline:join"),
        "datacompy_over_core": ("baseline:datacompy", "core"),
        "pandas_over_core": ("baseline:pandas", "core"),
    }
    for key, (num, den) in pairs.items():
        a, b = s(num), s(den)
        if a is not None and b:
            out[key] = round(a / b, 2)
    return out


def _slope(xs: list[float], ys: list[float]) -> float:
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def scaling(sizes: dict[str, Any]) -> dict[str, Any]:
    """Per stage: seconds per million rows at each size; the exponent k of time ~ rows^k fitted in log space
    over the sizes measured (k = 1 is linear; fixed costs pull it below 1 at small sizes) and between the two
    largest sizes, where fixed costs matter least; peak MiB per million rows (slope)."""
    by_stage: dict[str, dict[int, Record]] = {}
    for size, entry in sizes.items():
        for stage, record in entry["stages"].items():
            by_stage.setdefault(stage, {})[int(size)] = record
    out: dict[str, Any] = {}
    for stage, points in sorted(by_stage.items()):
        rows = sorted(points)
        item: dict[str, Any] = {
            "s_per_million_rows": {str(n): round(points[n]["seconds"] / (n / 1e6), 3) for n in rows},
            "peak_mib": {str(n): points[n]["peak_mib"] for n in rows},
        }
        if len(rows) >= 2:
            logs = [math.log(n) for n in rows]
            times = [math.log(points[n]["seconds"]) for n in rows]
            item["time_exponent"] = round(_slope(logs, times), 3)
            item["time_exponent_last_step"] = round((times[-1] - times[-2]) / (logs[-1] - logs[-2]), 3)
            item["peak_mib_per_million_rows"] = round(
                _slope([n / 1e6 for n in rows], [points[n]["peak_mib"] for n in rows]), 1
            )
        out[stage] = item
    return out


def _target(name: str, value: float | None, limit: str, met: bool | None, note: str = "") -> Record:
    return {"target": name, "value": value, "limit": limit, "met": met, "note": note}


def targets(sizes: dict[str, Any], scale: dict[str, Any], streaming: dict[str, Any]) -> list[Record]:
    """The issue's targets against what was measured (reported, never asserted)."""
    if not sizes:
        return []
    at = str(TARGET_ROWS) if str(TARGET_ROWS) in sizes else max(sizes, key=int)
    stages: dict[str, Record] = sizes[at]["stages"]
    r = sizes[at].get("ratios", {})
    note = "" if at == str(TARGET_ROWS) else f"measured at {int(at):,} rows, not 5M"
    out = [
        _target(
            "reconcile core <= 2x the bare join",
            r.get("core_over_join"),
            "<= 2",
            r["core_over_join"] <= 2 if "core_over_join" in r else None,
            note,
        ),
        _target(
            "datacompy >= 5x the core",
            r.get("datacompy_over_core"),
            ">= 5",
            r["datacompy_over_core"] >= 5 if "datacompy_over_core" in r else None,
            note,
        ),
    ]
    cycle = stages.get("cycle:cli")
    out.append(
        _target(
            "whole monthly cycle (CLI) < 60 s",
            round(cycle["seconds"], 1) if cycle else None,
            "< 60 s",
            cycle["seconds"] < 60 if cycle else None,
            note,
        )
    )
    own = {k: v for k, v in stages.items() if not k.startswith("baseline:")}
    if own:
        worst = max(own, key=lambda k: own[k]["peak_mib"])
        peak = own[worst]["peak_mib"]
        out.append(
            _target(
                "peak memory < 3 GiB",
                round(peak / GIB, 2),
                "< 3 GiB",
                peak < 3 * GIB,
                f"largest: {worst}; {note}".strip("; "),
            )
        )
    for stage, item in scale.items():
        if "time_exponent" in item and not stage.startswith("baseline:"):
            k = item["time_exponent_last_step"]
            sizes_ = list(item["s_per_million_rows"])
            out.append(
                _target(
                    f"linear time: {stage}",
                    k,
                    "exponent <= 1.1",
                    k <= 1.1,
                    f"time ~ rows^k from {int(sizes_[-2]):,} to {int(sizes_[-1]):,} rows "
                    f"(fitted over all sizes: {item['time_exponent']})",
                )
            )
    for rows, entry in sorted(streaming.items(), key=lambda kv: int(kv[0])):
        run, one = entry.get("reconcile"), entry.get("one_plan", {})
        if run:
            out.append(
                _target(
                    f"streaming reconcile of {int(rows):,} lines within 8 GiB",
                    round(run["peak_mib"] / GIB, 2),
                    "<= 8 GiB",
                    run["peak_mib"] <= 8 * GIB,
                    f"{entry['buckets']} buckets; one plan over them all would need about "
                    f"{one.get('projected_peak_gib_at_rows')} GiB (measured {one.get('peak_mib')} MiB at "
                    f"{one.get('rows')} lines)",
                )
            )
    return out


def write(new_sizes: dict[int, dict[str, Record]], new_streaming: dict[int, Record]) -> dict[str, Any]:
    """Merge this run's measurements into national.json, recompute ratios, scaling and targets, plot."""
    old: dict[str, Any] = json.loads(JSON_PATH.read_text()) if JSON_PATH.exists() else {}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    sizes: dict[str, Any] = old.get("sizes", {})
    for rows, stages in new_sizes.items():
        if stages:
            entry = sizes.setdefault(str(rows), {"stages": {}})
            entry["stages"].update(stages)
            entry["measured_at"] = now
            entry["source"] = source()
            entry["ratios"] = ratios(entry["stages"])
    streaming: dict[str, Any] = old.get("streaming", {})
    streaming.update({str(k): v for k, v in new_streaming.items()})
    sizes = dict(sorted(sizes.items(), key=lambda kv: int(kv[0])))
    scale = scaling(sizes)
    document = {
        "written_at": now,
        "machine": machine(),
        "sizes": sizes,
        "scaling": scale,
        "streaming": streaming,
        "targets": targets(sizes, scale, streaming),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    JSON_PATH.write_text(json.dumps(document, indent=1) + "\n")
    plot(sizes)
    return document


def plot(sizes: dict[str, Any]) -> None:
    """Two log-log panels against rows: median seconds and peak RSS, one line per stage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({stage for entry in sizes.values() for stage in entry["stages"]})
    colours = matplotlib.colormaps["tab20"]
    fig, (time_ax, memory_ax) = plt.subplots(1, 2, figsize=(15, 6.5))
    for i, stage in enumerate(names):
        points = sorted((int(n), e["stages"][stage]) for n, e in sizes.items() if stage in e["stages"])
        rows = [n for n, _ in points]
        style = "--" if stage.startswith("baseline:") else (":" if stage.startswith("load:") else "-")
        width = 2.8 if stage in ("cycle:cli", "core") else 1.3
        common = {"marker": "o", "linewidth": width, "color": colours(i % 20), "label": stage}
        time_ax.plot(rows, [r["seconds"] for _, r in points], style, **common)
        memory_ax.plot(rows, [r["peak_mib"] / GIB for _, r in points], style, **common)
    for ax, label in ((time_ax, "seconds (median)"), (memory_ax, "peak RSS of the process (GiB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("order lines in the month")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    time_ax.axhline(60, color="grey", linewidth=0.8)
    time_ax.annotate("60 s (cycle target at 5M)", (0.01, 60), xycoords=("axes fraction", "data"), fontsize=8)
    memory_ax.axhline(3, color="grey", linewidth=0.8)
    memory_ax.annotate("3 GiB (target at 5M)", (0.01, 3), xycoords=("axes fraction", "data"), fontsize=8)
    time_ax.set_title("time against rows per stage")
    memory_ax.set_title("peak memory against rows per stage")
    memory_ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    fig.savefig(PNG_PATH, dpi=100)
    plt.close(fig)
