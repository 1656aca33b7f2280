"""One stage in its own process: ``python -m national.stage STAGE DATA WORK``.

The child does the stage's setup (imports, reading its inputs: not timed), writes ``ready <rss MiB>`` to the
protocol pipe (its original stdout; anything else it prints goes to stderr), waits for ``go`` on stdin, runs
the stage and writes ``done <json>`` with its own ``perf_counter`` seconds. The parent times go→done and reads
the child's peak RSS from ``wait4`` after it exits. Every stage works on the benchmarked (second) month of
the generated data in DATA; ledger stages use ``WORK/ledger.db`` as the parent prepared it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from disburse.profile import all_profiles, pilot_provinces
from disburse.reconcile import ReconcileInput, reconcile
from national.data import CORE_FRAMES, core_dir, manifest

Info = dict[str, Any]
Run = Callable[[], Info]
PERIOD_INDEX = 1  # the second generated month
USER = "bench"


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _month(data: Path) -> dict[str, Any]:
    month: dict[str, Any] = manifest(data)["months"][PERIOD_INDEX]
    return month


def core_input(data: Path) -> ReconcileInput:
    info = manifest(data)
    folder = core_dir(info["rows"], info["seed"])
    frames = {name: pl.read_parquet(folder / f"{name}.parquet") for name in CORE_FRAMES}
    period = (folder / "period.txt").read_text().strip()
    return ReconcileInput(period=period, profiles=pilot_provinces(), **frames)


def exploded_payouts(payouts: pl.DataFrame) -> pl.DataFrame:
    """Payout lines with ``order_ref`` split into one ``order_id`` per row (lines without one: null)."""
    return payouts.with_columns(order_id=pl.col("order_ref").str.split("|")).explode(
        "order_id", empty_as_null=True
    )


# --- loaders ----------------------------------------------------------------------------------------------


def load_orders_stage(data: Path, work: Path) -> Run:
    from disburse.loaders.orders import load_orders

    path = data / _month(data)["orders"]

    def run() -> Info:
        loaded = load_orders(path)
        assert loaded.rejects.is_empty(), loaded.rejects.head()
        return {"lines": loaded.frame.height}

    return run


def load_dialect_stage(dialect: str) -> Callable[[Path, Path], Run]:
    def setup(data: Path, work: Path) -> Run:
        from disburse.loaders.payouts import load_payouts

        month = _month(data)
        profile = all_profiles()[dialect]
        paths = [data / p["path"] for p in month["payouts"] if p["dialect"] == dialect]

        def run() -> Info:
            lines = 0
            for path in paths:
                loaded = load_payouts(path, profile, month["period"], check_scope=True)
                assert loaded.rejects.is_empty(), loaded.rejects.head()
                lines += loaded.frame.height
            return {"lines": lines, "files": len(paths)}

        return run

    return setup


# --- ledger -----------------------------------------------------------------------------------------------


def _ledger(work: Path) -> Any:
    from disburse.ledger import Ledger

    return Ledger.connect(f"sqlite:///{work / 'ledger.db'}")


def ledger_import_stage(data: Path, work: Path) -> Run:
    """The month's files already loaded (not timed); timed: storing them as batches, as ``import`` does."""
    from disburse.loaders.orders import load_events, load_orders
    from disburse.loaders.payouts import load_payouts

    month = _month(data)
    period = month["period"]
    orders = load_orders(data / month["orders"])
    events = load_events(data / month["events"])
    profiles = all_profiles()
    payouts = [
        (p["province"], load_payouts(data / p["path"], profiles[p["dialect"]], period, check_scope=True))
        for p in month["payouts"]
    ]
    ledger = _ledger(work)

    def run() -> Info:
        ledger.import_batch("orders", orders, province_code=None, period=period, user=USER)
        ledger.import_batch("events", events, province_code=None, period=None, user=USER)
        for code, loaded in payouts:
            ledger.import_batch("payouts", loaded, province_code=code, period=period, user=USER)
        ledger.close()
        return {"lines": orders.frame.height + events.frame.height + sum(p.frame.height for _, p in payouts)}

    return run


def ledger_input_stage(data: Path, work: Path) -> Run:
    ledger = _ledger(work)
    period = _month(data)["period"]

    def run() -> Info:
        inp, _ = ledger.reconcile_input(period, pilot_provinces())
        return {"orders": inp.orders.height, "prior_orders": inp.prior_orders.height}

    return run


def ledger_record_stage(data: Path, work: Path) -> Run:
    ledger = _ledger(work)
    period = _month(data)["period"]
    inp, batch_ids = ledger.reconcile_input(period, pilot_provinces())
    result = reconcile(inp)

    def run() -> Info:
        receipt = ledger.record_run(period, {"amount_tolerance_vnd": None}, batch_ids, result, user=USER)
        assert receipt.created
        return {"outcomes": result.outcomes.height, "exceptions": result.exceptions.height}

    return run


# --- core and reports -------------------------------------------------------------------------------------


def core_stage(data: Path, work: Path) -> Run:
    inp = core_input(data)

    def run() -> Info:
        result = reconcile(inp)
        return {"orders": inp.orders.height, "exceptions": result.exceptions.height}

    return run


def reports_stage(data: Path, work: Path) -> Run:
    """Every file ``reconcile`` writes (CSV, JSON, XLSX, a PDF per province, the national PDF) from the
    core's result, as ``pipeline.month.reconcile_period`` writes them: names joined in, the targets it lists,
    written by its own writer where it has one (``_write_targets``), else one by one with ``write_target``."""
    from disburse.pipeline import month
    from disburse.reports.files import with_names
    from disburse.reports.pdf import RunInfo

    inp = core_input(data)
    result = reconcile(inp)
    out = work / "report"
    out.mkdir(parents=True, exist_ok=True)
    run_info = RunInfo(period=inp.period, run_id=1, generated_at=datetime(2026, 11, 5, 9, 0, tzinfo=UTC))
    write_all: Callable[..., list[Path]] | None = getattr(month, "_write_targets", None)

    def run() -> Info:
        names = ["order_id", "full_name", "ward_code"]  # the columns with_names reads
        all_orders = pl.concat([inp.orders.select(names), inp.prior_orders.select(names)])
        named = with_names(result.exceptions, all_orders, inp.payouts)
        targets = month._report_targets(
            out, run_info, pilot_provinces(), result.summary, result.exceptions, named
        )
        written: list[Path] = []
        if write_all is not None:
            written = write_all(targets, lambda done, message: None)
        else:
            for target, write in targets:
                month.write_target(target, written, write)
        return {"exceptions": result.exceptions.height, "files": len(written)}

    return run


# --- baselines --------------------------------------------------------------------------------------------


def join_stage(data: Path, work: Path) -> Run:
    """The floor: a bare polars full outer join of orders and (exploded) payout lines on order_id."""
    inp = core_input(data)
    orders, lines = inp.orders, exploded_payouts(inp.payouts)

    def run() -> Info:
        return {"rows_out": orders.join(lines, on="order_id", how="full").height}

    return run


COMPARED = ["order_id", "beneficiary_id", "national_id", "full_name", "ward_code", "amount_vnd"]


def compare_frames(data: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What a team would hand a frame-comparison tool: the order and the line side by side on order_id,
    the line's amount under the order's column name so that amounts are compared too."""
    inp = core_input(data)
    lines = exploded_payouts(inp.payouts).rename({"amount_paid_vnd": "amount_vnd"})
    return inp.orders.select(COMPARED), lines.select(COMPARED)


def datacompy_stage(data: Path, work: Path) -> Run:
    from datacompy import PolarsCompare

    orders, lines = compare_frames(data)

    def run() -> Info:
        compare = PolarsCompare(orders, lines, join_columns="order_id", df1_name="orders", df2_name="payouts")
        mismatched = compare.all_mismatch()
        return {
            "mismatched_rows": mismatched.height,
            "orders_only": compare.df1_unq_rows.height,
            "payouts_only": compare.df2_unq_rows.height,
        }

    return run


def pandas_stage(data: Path, work: Path) -> Run:
    """pandas outer merge with indicator of the same two frames (converted before timing)."""
    orders, lines = (frame.to_pandas() for frame in compare_frames(data))

    def run() -> Info:
        merged = orders.merge(lines, on="order_id", how="outer", indicator=True, suffixes=("", "_paid"))
        return {"rows_out": len(merged)}

    return run


STAGES: dict[str, Callable[[Path, Path], Run]] = {
    "load:orders": load_orders_stage,
    **{f"load:{d}": load_dialect_stage(d) for d in ("hcm", "danang", "dongnai", "thainguyen", "lamdong")},
    "ledger:import": ledger_import_stage,
    "ledger:input": ledger_input_stage,
    "ledger:record": ledger_record_stage,
    "core": core_stage,
    "reports": reports_stage,
    "baseline:join": join_stage,
    "baseline:datacompy": datacompy_stage,
    "baseline:pandas": pandas_stage,
}


def main(stage: str, data: Path, work: Path) -> None:
    import json

    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the stage's own prints go to stderr; the pipe carries only the protocol
    run = STAGES[stage](data, work)
    protocol.write(f"ready {rss_mib():.1f}\n")
    protocol.flush()
    if sys.stdin.readline().strip() != "go":
        return
    start = time.perf_counter()
    info = run()
    seconds = time.perf_counter() - start
    protocol.write("done " + json.dumps({"seconds": seconds, **info}) + "\n")
    protocol.flush()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
