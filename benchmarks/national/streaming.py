"""Beyond one machine's memory: a month of 50M order lines reconciled by polars' streaming engine.

Data (``gen``): canonical orders, payout lines and deaths built column-wise in chunks of 5M rows (not through
the full generator, which takes ~8 GB per 5M), written as parquet under ``stream-rows<N>-seed<S>/``, split in
buckets by a hash of the order id (``bucket=<b>/``): what a post office export partitioned by key looks like.
Every 100 orders, fixed residues get a discrepancy: a duplicate line, a phantom reference, no line, an unpaid
line, over- and underpayment, another national ID, another name, an upper-case name (harmless), another ward,
a late payment, a wrong fee, a death before the period.

Reconcile (``reconcile``): for each bucket, one streaming plan over ``scan_parquet`` that sinks its exceptions
(one row per code per line or order) to parquet; then the money per province from streaming scans of the
orders, the paid lines and the exceptions written, closed per province (see ``money``), and the counts per
code. With one bucket it is a single streaming plan over the month; with B buckets the joins' hash tables
hold about 1/B of it (polars' streaming joins keep their build side in memory: they do not spill).

What it covers of the core: matching by ``order_ref`` naming one order; the earliest paid line (paid_on, then
payout_id) matches, later ones are DUPLICATE_PAYOUT; PHANTOM_PAYOUT; MISSING_RESULT; UNPAID; OVERPAID,
UNDERPAID, ID_MISMATCH (normalised), NAME_MISMATCH (the core's ``fold_name``), LOCATION_MISMATCH, PAID_LATE,
FEE_MISMATCH (the profiles' tariffs), PAID_AFTER_DEATH; money per province with its conservation check. Not
covered: lines naming several orders or none (Thái Nguyên's coverage by beneficiary), allocation over
several orders, prior and open orders, arrears and supersession, proxies, DUPLICATE_ORDER,
UNCOLLECTED_3_MONTHS, control totals, outcomes and the ledger.

``python -m national.streaming gen ROWS SEED BUCKETS`` / ``reconcile DIR OUT BUCKETS INFO`` /
``join DIR BUCKETS INFO`` (INFO: where the child writes its JSON).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from disburse.profile import pilot_provinces
from disburse.text import fold_name, normalise_national_id
from national import proc
from national.data import CACHE

CHUNK = 5_000_000
PERIOD = "2026-10"
PAID = ["PAID", "PAID_PROXY", "PAID_HOME"]
PROVINCES = ["79", "75", "68", "19", "48"]
SHARES = [34, 20, 20, 13, 13]  # percent, as the generator's PROVINCE_WEIGHTS
NAMES = ["Nguyễn Văn An", "Trần Thị Hoà", "Lê Đức Thịnh", "Phạm Thị Ễnh", "Đặng Quốc Việt", "Võ Thị Hòa"]
AMOUNTS = [500_000, 750_000, 1_000_000, 1_394_500, 2_789_000, 3_346_800, 5_578_000]
# residue of i % 100 -> what happens to order i
DUPLICATE, PHANTOM, MISSING, UNPAID, OVER, UNDER, ID, NAME, WARD, LATE, FEE, DEAD, UPPER = range(1, 14)
BUCKET_ROWS = int(os.environ.get("BENCH_NATIONAL_STREAMING_BUCKET_ROWS", "2500000"))  # lines per bucket
PROBE_ROWS = 5_000_000  # the size reconciled as one plan, to show how one plan's memory grows


def buckets_for(rows: int) -> int:
    return max(1, -(-rows // BUCKET_ROWS))


def stream_dir(rows: int, seed: int, buckets: int) -> Path:
    return CACHE / f"stream-rows{rows}-seed{seed}-b{buckets}"


def tariff() -> pl.DataFrame:
    profiles = pilot_provinces()
    return pl.DataFrame(
        {
            "province_code": PROVINCES,
            "_rate_bp": [profiles[c].fee.rate_bp for c in PROVINCES],
            "_flat_vnd": [profiles[c].fee.flat_vnd for c in PROVINCES],
        }
    )


def _chunk(start: int, n: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Orders, payout lines and deaths for orders start..start+n, built from expressions of the row number."""
    i = pl.col("i")
    k = i % 100
    mix = (i * 7_919 + seed) % 100
    province = pl.lit(PROVINCES[-1])
    for code, bound in reversed(list(zip(PROVINCES, [sum(SHARES[: j + 1]) for j in range(5)], strict=True))):
        province = pl.when(mix < bound).then(pl.lit(code)).otherwise(province)
    ward = ((i * 131 + seed) % 9_000 + 10_000).cast(pl.String)
    base = pl.DataFrame({"i": pl.int_range(start, start + n, dtype=pl.Int64, eager=True)})
    orders = base.select(
        i,
        pl.format("{}-202610-{}", province, i.cast(pl.String).str.zfill(10)).alias("order_id"),
        pl.lit(PERIOD).alias("period"),
        province.alias("province_code"),
        ward.alias("ward_code"),
        pl.format("{}-B-{}", province, i.cast(pl.String).str.zfill(10)).alias("beneficiary_id"),
        ((i * 7_919_999 + seed) % 10**11 + 10**11).cast(pl.String).alias("national_id"),
        pl.lit(pl.Series(NAMES)).gather(i % len(NAMES)).alias("full_name"),
        pl.lit(pl.Series(AMOUNTS)).gather(i * 31 % len(AMOUNTS)).alias("amount_vnd"),
    )
    rate = tariff()
    o = pl.col
    paid_line = (
        orders.filter(k != MISSING)
        .join(rate, on="province_code", how="left")
        .select(
            o("i"),
            pl.format("GD{}", i.cast(pl.String).str.zfill(11)).alias("payout_id"),
            pl.when(k == PHANTOM)
            .then(pl.format("{}-PH-{}", o("province_code"), i))
            .otherwise(o("order_id"))
            .alias("order_ref"),
            o("beneficiary_id"),
            pl.when(k == ID).then(pl.lit("001099999999")).otherwise(o("national_id")).alias("national_id"),
            pl.when(k == NAME)
            .then(pl.lit("Bùi Thị Khác"))
            .when(k == UPPER)
            .then(o("full_name").str.to_uppercase())
            .otherwise(o("full_name"))
            .alias("full_name"),
            pl.when(k == UNPAID)
            .then(0)
            .when(k == OVER)
            .then(o("amount_vnd") + 100_000)
            .when(k == UNDER)
            .then(o("amount_vnd") - 100_000)
            .otherwise(o("amount_vnd"))
            .alias("amount_paid_vnd"),
            pl.when(k == UNPAID).then(pl.lit("UNPAID_ABSENT")).otherwise(pl.lit("PAID")).alias("status"),
            pl.when(k == WARD).then(pl.lit("99999")).otherwise(o("ward_code")).alias("ward_code"),
            o("province_code"),
            o("_rate_bp"),
            o("_flat_vnd"),
        )
        .with_columns(
            pl.when(o("status") == "PAID")
            .then(pl.date(2026, 10, 1) + pl.duration(days=i % 10 + 10 * (k == LATE)))
            .alias("paid_on"),
            pl.when(o("status") != "PAID")
            .then(0)
            .otherwise(
                (o("amount_paid_vnd") * o("_rate_bp") + 5_000) // 10_000 + o("_flat_vnd") + 1_000 * (k == FEE)
            )
            .alias("fee_vnd"),
        )
    )
    duplicates = paid_line.filter(k == DUPLICATE).with_columns(
        pl.format("GX{}", i.cast(pl.String).str.zfill(11)).alias("payout_id"),
        (o("paid_on") + pl.duration(days=1)).alias("paid_on"),
    )
    lines = pl.concat([paid_line, duplicates]).drop("_rate_bp", "_flat_vnd")
    deaths = orders.filter(k == DEAD).select("beneficiary_id", pl.date(2026, 9, 15).alias("died_on"))
    return orders, lines, deaths


def _bucket(key: str, buckets: int) -> pl.Expr:
    return (pl.col(key).hash(seed=0) % buckets).cast(pl.Int32).alias("bucket")


def generate(rows: int, seed: int, buckets: int) -> Path:
    """Write the month in chunks under its cache folder (published by rename when complete)."""
    target = stream_dir(rows, seed, buckets)
    if (target / "done").exists():
        return target
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    for c, start in enumerate(range(0, rows, CHUNK)):
        orders, lines, deaths = _chunk(start, min(CHUNK, rows - start), seed)
        for name, frame, key in (("orders", orders, "order_id"), ("lines", lines, "order_ref")):
            for (b,), part in (
                frame.drop("i")
                .with_columns(_bucket(key, buckets))
                .partition_by("bucket", as_dict=True, include_key=False)
                .items()
            ):
                folder = tmp / name / f"bucket={b}"
                folder.mkdir(parents=True, exist_ok=True)
                part.write_parquet(folder / f"chunk{c:03d}.parquet")
        (tmp / "deaths").mkdir(parents=True, exist_ok=True)
        deaths.write_parquet(tmp / "deaths" / f"chunk{c:03d}.parquet")
    (tmp / "done").write_text(json.dumps({"rows": rows, "seed": seed, "buckets": buckets}))
    if target.exists():
        shutil.rmtree(tmp)
    else:
        tmp.rename(target)
    return target


# --- the streaming reconciliation -------------------------------------------------------------------------


def _differ(normalise: Callable[[pl.Expr], pl.Expr], column: str) -> pl.Expr:
    """The order's and the line's values differ after ``normalise``, which (costly: regexes) only sees the
    rows whose raw values differ: the others are masked to null first."""
    a, b = pl.col(column), pl.col(f"{column}_line")
    differ = a != b
    return normalise(pl.when(differ).then(a)) != normalise(pl.when(differ).then(b))


def plan(orders: pl.LazyFrame, lines: pl.LazyFrame, deaths: pl.LazyFrame) -> pl.LazyFrame:
    """The exceptions of one bucket (one row per code per line or order), as a lazy plan."""
    o = pl.col
    paid = o("status").is_in(PAID)
    lines = lines.with_columns(
        _paid=paid,
        _key=pl.concat_str([o("paid_on").cast(pl.String).fill_null("9999-99-99"), o("payout_id")]),
    )
    per_order = lines.group_by("order_ref").agg(
        _first=o("_key").filter("_paid").min(),
        _first_unpaid=o("payout_id").filter(~o("_paid")).min(),
    )
    joined = (
        orders.join(
            lines.join(per_order, on="order_ref", how="left"),
            left_on="order_id",
            right_on="order_ref",
            how="full",
            suffix="_line",
        )
        .join(tariff().lazy(), left_on="province_code_line", right_on="province_code", how="left")
        .join(deaths, on="beneficiary_id", how="left")
    )
    has_order, has_line = o("order_id").is_not_null(), o("payout_id").is_not_null()
    matched = has_order & has_line & o("_paid") & (o("_key") == o("_first"))
    amount, paid_amount = o("amount_vnd"), o("amount_paid_vnd")
    fee = (paid_amount * o("_rate_bp") + 5_000) // 10_000 + o("_flat_vnd")
    codes = {
        "PHANTOM_PAYOUT": ~has_order & o("_paid"),
        "DUPLICATE_PAYOUT": has_order & o("_paid").fill_null(False) & (o("_key") != o("_first")),
        "MISSING_RESULT": has_order & ~has_line,
        "UNPAID": has_order & o("_first").is_null() & (o("payout_id") == o("_first_unpaid")),
        "OVERPAID": matched & (paid_amount > amount),
        "UNDERPAID": matched & (paid_amount > 0) & (paid_amount < amount),
        "ID_MISMATCH": matched & _differ(normalise_national_id, "national_id"),
        "NAME_MISMATCH": matched & _differ(fold_name, "full_name"),
        "LOCATION_MISMATCH": matched
        & o("ward_code_line").is_not_null()
        & (o("ward_code") != o("ward_code_line")),
        "PAID_LATE": matched & (o("paid_on").is_null() | (o("paid_on").dt.day() > 10)),
        "FEE_MISMATCH": has_line & (pl.when(o("_paid")).then(fee).otherwise(0) != o("fee_vnd")),
        "PAID_AFTER_DEATH": matched & (o("died_on") < pl.date(2026, 10, 1)),
    }
    # Every test on every row sets a bit; only the rows with a bit set (about one in eight) are exploded to
    # one row per bit number, kept where the bit is set (``concat_list`` of literals is far slower).
    bits = pl.sum_horizontal(
        [cond.fill_null(False).cast(pl.Int32) * (1 << k) for k, cond in enumerate(codes.values())]
    )
    exceptions = (
        joined.with_columns(_bits=bits)
        .filter(o("_bits") != 0)
        .with_columns(_k=pl.int_ranges(0, len(codes), dtype=pl.Int32))
        .explode("_k", empty_as_null=False)
        .filter((o("_bits") // (pl.lit(2, pl.Int32).pow(o("_k")))) % 2 == 1)
        .with_columns(code=o("_k").replace_strict(dict(enumerate(codes)), return_dtype=pl.String))
        .select(
            pl.coalesce("province_code_line", "province_code").alias("province_code"),
            "code",
            "order_id",
            "payout_id",
            amount.alias("ordered_vnd"),
            paid_amount.alias("paid_vnd"),
        )
    )
    return exceptions


def money(data: Path, out: Path) -> pl.DataFrame:
    """Per province, from three cheap streaming scans (orders, paid lines, the exceptions written): what was
    ordered, paid, and the exceptions' amounts; and the check that closes them, two independent ways to the
    paid amount that matched orders: lines paid - phantom - duplicate - overpaid excess = ordered - underpaid
    gaps - unpaid - missing."""
    o = pl.col
    ordered = (
        pl.scan_parquet(data / "orders" / "**" / "*.parquet", hive_partitioning=False)
        .group_by("province_code")
        .agg(ordered=o("amount_vnd").sum())
    )
    paid = (
        pl.scan_parquet(data / "lines" / "**" / "*.parquet", hive_partitioning=False)
        .filter(o("status").is_in(PAID))
        .group_by("province_code")
        .agg(lines_paid=o("amount_paid_vnd").sum())
    )

    def total(codes: list[str], value: pl.Expr) -> pl.Expr:
        return value.filter(o("code").is_in(codes)).sum()

    by_code = (
        pl.scan_parquet(out / "*.parquet")
        .group_by("province_code")
        .agg(
            underpaid_gap=total(["UNDERPAID"], o("ordered_vnd") - o("paid_vnd")),
            unpaid=total(["UNPAID", "MISSING_RESULT"], o("ordered_vnd")),
            overpaid=total(["OVERPAID"], o("paid_vnd") - o("ordered_vnd")),
            phantom=total(["PHANTOM_PAYOUT"], o("paid_vnd")),
            duplicate=total(["DUPLICATE_PAYOUT"], o("paid_vnd")),
        )
    )
    frames = pl.collect_all([ordered, paid, by_code], engine="streaming")
    table = frames[0].join(frames[1], on="province_code", how="full", coalesce=True)
    table = table.join(frames[2], on="province_code", how="full", coalesce=True).fill_null(0)
    return table.with_columns(
        matched_paid=o("lines_paid") - o("phantom") - o("duplicate") - o("overpaid"),
        closes=(o("lines_paid") - o("phantom") - o("duplicate") - o("overpaid"))
        == (o("ordered") - o("underpaid_gap") - o("unpaid")),
    ).sort("province_code")


def reconcile(data: Path, out: Path, buckets: int) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    deaths = pl.scan_parquet(data / "deaths" / "*.parquet")
    for b in range(buckets):
        orders = pl.scan_parquet(data / "orders" / f"bucket={b}" / "*.parquet")
        lines = pl.scan_parquet(data / "lines" / f"bucket={b}" / "*.parquet")
        plan(orders, lines, deaths).sink_parquet(out / f"exceptions-{b:03d}.parquet")
    table = money(data, out)
    assert table["closes"].all(), table  # every đồng accounted for, per province
    counts = (
        pl.scan_parquet(out / "*.parquet").group_by("code").len().sort("code").collect(engine="streaming")
    )
    return {"exceptions": dict(counts.iter_rows()), "ordered_vnd": int(table["ordered"].sum())}


def bare_join(data: Path, buckets: int) -> dict[str, Any]:
    """The floor: a streaming full outer join of orders and lines on the order id per bucket, every column
    carried through (a null count of each, so that none is pruned) and nothing else computed."""
    total = 0
    for b in range(buckets):
        orders = pl.scan_parquet(data / "orders" / f"bucket={b}" / "*.parquet")
        lines = pl.scan_parquet(data / "lines" / f"bucket={b}" / "*.parquet")
        joined = orders.join(lines, left_on="order_id", right_on="order_ref", how="full", suffix="_line")
        counts = joined.select(pl.len().alias("_rows"), pl.all().null_count()).collect(engine="streaming")
        total += int(counts["_rows"].item())
    return {"rows_out": total}


# --- measuring from the benchmark -------------------------------------------------------------------------


def prepare(rows: int, seed: int) -> None:
    """Generate (cached) the data ``measure`` reads, each in its own process: not part of the measure."""
    for size, buckets in {(rows, buckets_for(rows)), (min(rows, PROBE_ROWS), 1)}:
        proc.python_module(
            "national.streaming", "gen", str(size), str(seed), str(buckets), cwd=proc.BENCH_DIR
        )


def _run(what: str, rows: int, seed: int, buckets: int, scratch: Path) -> dict[str, Any]:
    data = stream_dir(rows, seed, buckets)
    info = scratch / f"{what}-{rows}-b{buckets}.json"
    args = [str(data), str(scratch / f"out-{rows}-b{buckets}")] if what == "reconcile" else [str(data)]
    run = proc.python_module("national.streaming", what, *args, str(buckets), str(info), cwd=proc.BENCH_DIR)
    shutil.rmtree(scratch / f"out-{rows}-b{buckets}", ignore_errors=True)
    return {
        "seconds": round(run.seconds, 2),
        "peak_mib": round(run.peak_mib, 1),
        **json.loads(info.read_text()),
    }


def measure(rows: int, seed: int, scratch: Path) -> dict[str, Any]:
    """The streaming reconcile and the bare streaming join over ``rows`` lines in buckets, and the reconcile
    of up to PROBE_ROWS lines as one plan (one bucket), each in its own process: seconds from start to exit
    (interpreter included) and peak RSS. The one-plan peak, scaled linearly, is what one plan over ``rows``
    would need."""
    buckets = buckets_for(rows)
    result: dict[str, Any] = {"rows": rows, "buckets": buckets}
    result["reconcile"] = _run("reconcile", rows, seed, buckets, scratch)
    result["bare_join"] = _run("join", rows, seed, buckets, scratch)
    result["reconcile_over_join"] = round(result["reconcile"]["seconds"] / result["bare_join"]["seconds"], 2)
    probe = min(rows, PROBE_ROWS)
    one = _run("reconcile", probe, seed, 1, scratch)
    one["projected_peak_gib_at_rows"] = round(one["peak_mib"] / probe * rows / 1024, 1)
    result["one_plan"] = {"rows": probe, **one}
    return result


def main(argv: list[str]) -> None:
    what = argv[1]
    if what == "gen":
        generate(int(argv[2]), int(argv[3]), int(argv[4]))
        return
    start = time.perf_counter()
    if what == "reconcile":
        info = reconcile(Path(argv[2]), Path(argv[3]), int(argv[4]))
    else:
        info = bare_join(Path(argv[2]), int(argv[3]))
    info["child_seconds"] = round(time.perf_counter() - start, 2)
    Path(argv[-1]).write_text(json.dumps(info))


if __name__ == "__main__":
    main(sys.argv)
