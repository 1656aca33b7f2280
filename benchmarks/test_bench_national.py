"""National scale (issue #8): every stage of a month at 100k, 1M and 5M order lines, each in its own process,
with the baselines a team would otherwise use, on the same data in the same run.

Sizes from ``BENCH_NATIONAL_ROWS`` (comma-separated; default ``100000``, ``make bench`` runs
``100000,1000000,5000000``); rounds of each stage from ``BENCH_NATIONAL_ROUNDS`` (default 3, a fresh child
each), of each whole month from ``BENCH_NATIONAL_CYCLE_ROUNDS`` (default 1); seed ``BENCH_NATIONAL_SEED``.
Data: two generated months in the five provinces' dialects (``national.data``, cached in
``/tmp/disburse-bench-cache/``); the benchmarked month is the second, with the first in the ledger.

Stages (group ``national <rows>``), each a child process whose setup is not timed (``national.stage``):

- ``cycle:cli-first-month`` and ``cycle:cli``: the whole month through the ``disburse`` console script, one
  process per command (``init``, ``import orders``/``events``/``payouts`` per file, ``reconcile`` with its
  PDFs), into a fresh SQLite ledger and into a copy of the ledger holding the first month. Timed end to end,
  interpreter start-ups included; ``extra_info["commands"]`` has each command's seconds and peak RSS.
- ``load:orders``, ``load:<dialect>``: the loaders on the month's files (every part of a split XLSX).
- ``ledger:import`` (the loaded month stored as batches), ``ledger:input`` (reading the core's input back),
  ``ledger:record`` (storing the run's outcomes and exceptions).
- ``core``: ``reconcile`` on the month's canonical frames; ``reports``: every output file of a run.
- ``baseline:join`` (bare polars full outer join on order_id: the floor), ``baseline:datacompy``
  (``PolarsCompare`` of orders and lines on order_id), ``baseline:pandas`` (outer merge).
- ``streaming`` (opt-in, ``BENCH_NATIONAL_STREAMING=50000000``): ``national.streaming``.

Every record (median seconds; peak RSS in MiB of the child's process tree, see ``national.proc``, setup
included; RSS after setup) goes to ``extra_info`` and to ``benchmarks/results/national.json`` with ratios,
scaling and the issue's targets; ``benchmarks/results/national.png`` plots time and peak memory against
rows. Sizes measured by earlier runs stay in the JSON until measured again. Nothing here asserts a timing.
Run (``PYTHONPATH=<a checkout>`` measures another copy of ``disburse``; the JSON names which one):

    BENCH_NATIONAL_ROWS=100000 .venv/bin/pytest benchmarks/test_bench_national.py --benchmark-only
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from national import data as national_data
from national import proc, results, streaming
from national.proc import Stage
from pytest_benchmark.fixture import BenchmarkFixture

SIZES = [int(n) for n in os.environ.get("BENCH_NATIONAL_ROWS", "100000").split(",") if n.strip()]
ROUNDS = int(os.environ.get("BENCH_NATIONAL_ROUNDS", "3"))  # stages: medians, on a machine others share
CYCLE_ROUNDS = int(os.environ.get("BENCH_NATIONAL_CYCLE_ROUNDS", "1"))  # whole months: minutes each at 5M
SEED = int(os.environ.get("BENCH_NATIONAL_SEED", "1"))
STREAMING = [int(n) for n in os.environ.get("BENCH_NATIONAL_STREAMING", "").split(",") if n.strip()]
DIALECTS = ["hcm", "danang", "dongnai", "thainguyen", "lamdong"]
GENERATED_AT = "2026-11-05T09:00:00"
DISBURSE = str(Path(sys.executable).parent / "disburse")

RESULTS: dict[int, dict[str, results.Record]] = {}
STREAMED: dict[int, results.Record] = {}


@dataclass
class Workspace:
    """One size: the cached generated data, and a scratch folder for ledgers and outputs (removed after)."""

    rows: int
    data: Path
    root: Path
    base_ledger: Path | None = None  # the first month imported and reconciled
    imported_ledger: Path | None = None  # ... and the second month imported
    count: int = 0
    manifest: dict[str, Any] = field(default_factory=dict)

    def fresh(self, stage: str) -> Path:
        self.count += 1
        work = self.root / f"{self.count:02d}-{stage.replace(':', '-')}"
        work.mkdir(parents=True)
        return work

    def copy_ledger(self, source: Path | None, work: Path) -> None:
        assert source is not None
        for suffix in ("", "-wal"):
            if Path(f"{source}{suffix}").exists():
                shutil.copyfile(f"{source}{suffix}", work / f"ledger.db{suffix}")

    def commands(self, month: int, *, init: bool) -> list[list[str]]:
        m = self.manifest["months"][month]
        period = m["period"]
        quiet = [DISBURSE, "--quiet"]
        out = [[*quiet, "init"]] if init else []
        out += [[*quiet, "import", "orders", str(self.data / m["orders"])]]
        out += [[*quiet, "import", "events", str(self.data / m["events"])]]
        out += [
            [
                *quiet,
                "import",
                "payouts",
                str(self.data / p["path"]),
                "--province",
                p["province"],
                "--period",
                period,
            ]
            for p in m["payouts"]
        ]
        out += [[*quiet, "reconcile", "--period", period, "--out", "out", "--generated-at", GENERATED_AT]]
        return out

    def cli(self, work: Path, command: list[str]) -> proc.Command:
        env = proc.child_env(
            {"DISBURSE_DATABASE_URL": f"sqlite:///{work / 'ledger.db'}", "DISBURSE_USER": "bench"}
        )
        return proc.run(command, cwd=work, env=env)

    def ensure_base(self) -> Path:
        """The ledger after the first month (built untimed when ``cycle:cli-first-month`` did not run)."""
        if self.base_ledger is None:
            work = self.fresh("base")
            for command in self.commands(0, init=True):
                self.cli(work, command)
            self.base_ledger = work / "ledger.db"
        return self.base_ledger

    def ensure_imported(self) -> Path:
        """The base ledger plus the second month imported (untimed when ``ledger:import`` did not run)."""
        if self.imported_ledger is None:
            work = self.fresh("imported")
            self.copy_ledger(self.ensure_base(), work)
            stage = Stage("ledger:import", self.data, work)
            stage.go()
            stage.finish()
            self.imported_ledger = work / "ledger.db"
        return self.imported_ledger


def _say(request: pytest.FixtureRequest, line: str) -> None:
    """A line on the terminal even while pytest captures output (ratios, targets, where results went)."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


@pytest.fixture(scope="module", autouse=True)
def written(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every size: merge the measurements into national.json and redraw national.png."""
    yield
    if not any(RESULTS.values()) and not STREAMED:
        return
    document = results.write(RESULTS, STREAMED)
    _say(request, f"\nnational: wrote {results.JSON_PATH} and {results.PNG_PATH}")
    for rows, entry in document["sizes"].items():
        _say(request, f"  {int(rows):>10,} rows: ratios {entry.get('ratios', {})}")
    for target in document["targets"]:
        verdict = {True: "met", False: "MISSED", None: "n/a"}[target["met"]]
        _say(
            request,
            f"  {verdict:6} {target['target']}: {target['value']} ({target['limit']}) {target['note']}",
        )


@pytest.fixture(scope="module", params=SIZES, ids=lambda n: f"{n}rows")
def national(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    rows = int(request.param)
    cache = national_data.national_dir(rows, SEED)
    if not national_data.is_cached(rows, SEED):
        made = proc.python_module("national.data", str(rows), str(SEED), cwd=proc.BENCH_DIR)
        _say(
            request,
            f"\nnational: generated {rows:,} rows in {made.seconds:.0f} s, peak {made.peak_mib:.0f} MiB",
        )
    root = tmp_path_factory.mktemp(f"national{rows}")
    space = Workspace(rows, cache, root, manifest=national_data.manifest(cache))
    RESULTS.setdefault(rows, {})
    yield space
    shutil.rmtree(root, ignore_errors=True)  # ledgers of several GB at 5M


def _record(benchmark: BenchmarkFixture, space: Workspace, stage: str, record: results.Record) -> None:
    stats = benchmark.stats
    assert stats is not None
    record = {"seconds": round(float(stats.stats.median), 4), "rounds": len(stats.stats.data), **record}
    benchmark.extra_info.update(record)
    RESULTS[space.rows][stage] = record


def measure_stage(
    benchmark: BenchmarkFixture, space: Workspace, stage: str, prepare: Callable[[Path], None] | None = None
) -> results.Record:
    """Time ``stage`` (go→done in the parent) in a fresh child per round; peak RSS of each child."""
    benchmark.group = f"national {space.rows:,}"
    benchmark.name = stage
    started: list[Stage] = []

    def setup() -> tuple[tuple[Stage], dict[str, Any]]:
        for old in started:
            old.finish()  # one child at a time: the previous round's memory is freed first
        work = space.fresh(stage)
        if prepare is not None:
            prepare(work)
        started.append(Stage(stage, space.data, work))
        return (started[-1],), {}

    try:
        benchmark.pedantic(Stage.go, setup=setup, rounds=ROUNDS, iterations=1)  # type: ignore[no-untyped-call]
    finally:
        peaks = [s.finish() for s in started]
    info = {k: v for k, v in started[-1].info.items() if k != "seconds"}
    record = {
        "child_seconds": round(statistics.median(s.info["seconds"] for s in started), 4),
        "peak_mib": round(max(peaks), 1),
        "setup_rss_mib": round(max(s.setup_mib for s in started), 1),
        **info,
    }
    _record(benchmark, space, stage, record)
    return RESULTS[space.rows][stage]


def measure_cycle(benchmark: BenchmarkFixture, space: Workspace, stage: str, month: int) -> Path:
    """The whole month through the console script; returns the last round's ledger."""
    benchmark.group = f"national {space.rows:,}"
    benchmark.name = stage
    commands = space.commands(month, init=month == 0)
    runs: list[list[proc.Command]] = []
    works: list[Path] = []

    def setup() -> tuple[tuple[Path], dict[str, Any]]:
        work = space.fresh(stage)
        if month > 0:
            space.copy_ledger(space.ensure_base(), work)
        works.append(work)
        return (work,), {}

    def cycle(work: Path) -> None:
        runs.append([space.cli(work, command) for command in commands])

    benchmark.pedantic(cycle, setup=setup, rounds=CYCLE_ROUNDS, iterations=1)  # type: ignore[no-untyped-call]
    breakdown: list[dict[str, Any]] = [
        {
            "command": " ".join(Path(a).name if "/" in a else a for a in c.args[2:]),
            "seconds": round(c.seconds, 2),
            "peak_mib": round(c.peak_mib, 1),
        }
        for c in runs[-1]
    ]
    # What every command pays before its work: the interpreter and the app's imports (``--help``).
    startup = statistics.median(space.cli(works[-1], [DISBURSE, "--help"]).seconds for _ in range(3))
    record = {
        "peak_mib": round(max(c.peak_mib for c in runs[-1]), 1),
        "commands": breakdown,
        "startup_s_per_command": round(startup, 2),
    }
    _record(benchmark, space, stage, record)
    for work in works[:-1]:
        shutil.rmtree(work, ignore_errors=True)
    return works[-1] / "ledger.db"


# --- the whole month through the command line -------------------------------------------------------------


def test_cycle_first_month(benchmark: BenchmarkFixture, national: Workspace) -> None:
    national.base_ledger = measure_cycle(benchmark, national, "cycle:cli-first-month", 0)


def test_cycle(benchmark: BenchmarkFixture, national: Workspace) -> None:
    measure_cycle(benchmark, national, "cycle:cli", 1)


# --- stages -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["orders", *DIALECTS])
def test_load(benchmark: BenchmarkFixture, national: Workspace, dialect: str) -> None:
    record = measure_stage(benchmark, national, f"load:{dialect}")
    assert record["lines"] > 0


def test_ledger_import(benchmark: BenchmarkFixture, national: Workspace) -> None:
    base = national.ensure_base()
    imported: list[Path] = []

    def prepare(work: Path) -> None:
        national.copy_ledger(base, work)
        imported.append(work / "ledger.db")

    measure_stage(benchmark, national, "ledger:import", prepare)
    national.imported_ledger = imported[-1]


def test_ledger_input(benchmark: BenchmarkFixture, national: Workspace) -> None:
    imported = national.ensure_imported()
    measure_stage(benchmark, national, "ledger:input", lambda work: national.copy_ledger(imported, work))


def test_ledger_record(benchmark: BenchmarkFixture, national: Workspace) -> None:
    imported = national.ensure_imported()
    measure_stage(benchmark, national, "ledger:record", lambda work: national.copy_ledger(imported, work))


def test_core(benchmark: BenchmarkFixture, national: Workspace) -> None:
    record = measure_stage(benchmark, national, "core")
    assert record["exceptions"] > 0


def test_reports(benchmark: BenchmarkFixture, national: Workspace) -> None:
    measure_stage(benchmark, national, "reports")


# --- baselines on the same month --------------------------------------------------------------------------


@pytest.mark.parametrize("baseline", ["join", "datacompy", "pandas"])
def test_baseline(
    benchmark: BenchmarkFixture, national: Workspace, baseline: str, request: pytest.FixtureRequest
) -> None:
    measure_stage(benchmark, national, f"baseline:{baseline}")
    ratios = results.ratios(RESULTS[national.rows])
    benchmark.extra_info.update(ratios)
    _say(request, f"\nnational {national.rows:,}: {ratios}")


# --- beyond one machine's memory --------------------------------------------------------------------------


@pytest.mark.parametrize("rows", STREAMING or [0], ids=lambda n: f"{n}rows")
def test_streaming(
    benchmark: BenchmarkFixture, rows: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if not rows:
        pytest.skip("opt-in: BENCH_NATIONAL_STREAMING=50000000 (comma-separated sizes)")
    benchmark.group = f"streaming {rows:,}"
    benchmark.name = "streaming"
    measured: list[results.Record] = []

    def run() -> None:
        measured.append(streaming.measure(rows, SEED, tmp_path))

    def setup() -> tuple[tuple[()], dict[str, Any]]:
        streaming.prepare(rows, SEED)  # generated data is cached; its generation is not measured
        return (), {}

    benchmark.pedantic(run, setup=setup, rounds=1, iterations=1)  # type: ignore[no-untyped-call]
    STREAMED[rows] = measured[-1]
    benchmark.extra_info.update(measured[-1])
    _say(request, f"\nstreaming {rows:,}: {measured[-1]}")
