"""Hostile input: every loader and dialect, fed broken files, ends in a clear refusal or a whole import.

Two sources of bad files: the committed corpus ``tests/bad_files/`` (hand-made: one way of breaking a file
each, with the outcome it must have in ``cases.csv``), and hypothesis mutating valid generated files byte by
byte (truncation, flipped, inserted, repeated or deleted bytes, another encoding). Whatever the input:

- the command ends with exit 0 (imported whole) or exit 2 with a message naming the file, never a traceback
  (the pipeline raises ``DisburseError`` and nothing else);
- after a refusal the ledger's batches are exactly as before: nothing is half-imported;
- the ledger verifies after the test (see conftest).
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from disburse import pipeline
from disburse.cli import app
from disburse.errors import DisburseError, InputError
from disburse.fixtures.generate import generate
from disburse.fixtures.write import write_month
from disburse.ledger import Ledger
from disburse.profile import pilot_provinces

CORPUS = Path(__file__).parent / "bad_files"
PERIOD = "2026-10"
runner = CliRunner()


@dataclass(frozen=True)
class Case:
    file: str
    kind: str
    province: str
    period: str
    outcome: str  # refused | accepted
    says: str  # a fragment of the refusal's message

    def args(self, path: Path) -> list[str]:
        if self.kind == "payouts":
            return ["import", "payouts", str(path), "--province", self.province, "--period", self.period]
        return ["import", self.kind, str(path)]


def corpus() -> list[Case]:
    with (CORPUS / "cases.csv").open(encoding="utf-8", newline="") as handle:
        return [Case(**row) for row in csv.DictReader(handle)]


CASES = corpus()


def test_the_corpus_covers_every_loader_and_dialect() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.suffix != ".py" and p.name != "cases.csv"}
    assert files == {c.file for c in CASES}, "every corpus file has its case, every case its file"
    dialects = {c.file.split("_")[0] for c in CASES}
    assert dialects == {*{p.dialect for p in pilot_provinces().values()}, "orders", "events"}
    assert len(CASES) >= 100


def _batch_ids(ledger: Ledger) -> list[int]:
    return ledger.batches()["batch_id"].to_list()


def test_every_corpus_file_is_refused_clearly_or_imported_whole(
    ledger: Ledger, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the command line, as an officer would run it, on each backend (one ledger for the corpus)."""
    monkeypatch.setenv("DISBURSE_DATABASE_URL", database_url)
    failures: list[str] = []
    for case in CASES:
        path = CORPUS / case.file
        before = _batch_ids(ledger)
        result = runner.invoke(app, case.args(path), prog_name="disburse")
        after = _batch_ids(ledger)
        text = " ".join(result.output.split())  # the console may wrap long messages
        where = f"{case.file}: exit {result.exit_code}, {text[:300]!r}"
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            failures.append(f"{where}: raised {result.exception!r}")
        elif "Traceback" in result.output:
            failures.append(f"{where}: printed a traceback")
        elif case.outcome == "refused":
            if result.exit_code != 2:
                failures.append(f"{where}: should be refused with exit 2")
            elif case.file not in text:
                failures.append(f"{where}: the message does not name the file")
            elif case.says.lower() not in text.lower():
                failures.append(f"{where}: the message does not say {case.says!r}")
            if after != before:
                failures.append(f"{where}: refused, but the batches changed: {before} -> {after}")
        elif result.exit_code != 0 or len(after) != len(before) + 1:
            failures.append(f"{where}: should be imported as one new batch")
        else:
            # Out of the books again: the next accepted variant carries the same payout ids, which the
            # ledger refuses to count twice while this batch is active.
            ledger.reverse_batch(after[-1], reason=f"corpus case {case.file}", user="test")
    assert not failures, "\n".join(failures)


def test_a_refused_row_is_named_by_row_column_and_value(tmp_path: Path) -> None:
    with pytest.raises(InputError) as refused:
        pipeline.import_payouts(
            Ledger.connect(f"sqlite:///{tmp_path / 'l.db'}"),
            CORPUS / "hcm_negative_amount.csv",
            province="79",
            period=PERIOD,
        )
    message = str(refused.value)
    assert "hcm_negative_amount.csv" in message
    assert "row 3, column 'Số tiền', value '-500000': negative amount" in message


@pytest.mark.parametrize("name", ["hcm_nfc_nfd_mixed.csv", "lamdong_nfc_nfd_mixed.csv"])
def test_nfc_and_nfd_mixed_load_as_nfc(ledger: Ledger, name: str) -> None:
    code = next(c.province for c in CASES if c.file == name)
    report = pipeline.import_payouts(ledger, CORPUS / name, province=code, period=PERIOD)
    assert report.receipt.created
    inp, _ = ledger.reconcile_input(PERIOD, pilot_provinces())
    names = inp.payouts["full_name"].to_list()
    assert names and all(unicodedata.is_normalized("NFC", n) for n in names)
    assert any(not n.isascii() for n in names)  # the Vietnamese letters survived


# --- hypothesis: valid files, mutated byte by byte ----------------------------------------------------------


@dataclass(frozen=True)
class Source:
    kind: str
    path: Path
    province: str | None


@pytest.fixture(scope="module")
def month_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Source]:
    [month] = list(generate(PERIOD, 1, 100, 11))
    paths = write_month(month, tmp_path_factory.mktemp("month"))
    sources = {kind: Source(kind, paths[kind], None) for kind in ("orders", "events")}
    for key, path in paths.items():
        if key.startswith("payouts:"):
            code = key.split(":", 1)[1]
            sources[pilot_provinces()[code].dialect] = Source("payouts", path, code)
    return sources


Mutation = Callable[[bytes], bytes]


def _at(data: bytes, where: float) -> int:
    return min(int(where * len(data)), max(len(data) - 1, 0))


def _recode(data: bytes, encoding: str) -> bytes:
    for source in ("utf-8-sig", "cp1258", "latin-1"):
        try:
            text = data.decode(source)
            break
        except UnicodeDecodeError:
            continue
    if encoding in ("NFD", "NFC"):
        return unicodedata.normalize(encoding, text).encode("utf-8")
    return text.encode(encoding, errors="replace")


def _flip(data: bytes, flips: list[tuple[float, int]]) -> bytes:
    out = bytearray(data)
    for at, value in flips:
        if out:
            out[_at(data, at)] = value
    return bytes(out)


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, Mutation]:
    """(description, bytes -> bytes): one way a file gets damaged on its way to the officer."""
    where = st.floats(0, 1, allow_nan=False)
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "repeat", "delete", "recode"]))
    if kind == "truncate":
        w = draw(where)
        return f"truncate at {w:.3f}", lambda d: d[: _at(d, w)]
    if kind == "flip":
        flips = draw(st.lists(st.tuples(where, st.integers(0, 255)), min_size=1, max_size=8))
        return f"flip {flips}", lambda d: _flip(d, flips)
    if kind == "insert":
        w, junk = draw(where), draw(st.binary(min_size=1, max_size=40))
        return f"insert {junk!r} at {w:.3f}", lambda d: d[: _at(d, w)] + junk + d[_at(d, w) :]
    if kind in ("repeat", "delete"):
        w, n = draw(where), draw(st.integers(1, 400))
        if kind == "repeat":
            return f"repeat {n} bytes at {w:.3f}", lambda d: d[: _at(d, w) + n] + d[_at(d, w) :]
        return f"delete {n} bytes at {w:.3f}", lambda d: d[: _at(d, w)] + d[_at(d, w) + n :]
    encoding = draw(st.sampled_from(["cp1258", "utf-16", "latin-1", "utf-8", "NFD", "NFC"]))
    return f"saved as {encoding}", lambda d: _recode(d, encoding)


@pytest.fixture
def hostile_ledger(tmp_path: Path, touched_ledger: Callable[[str], None]) -> Iterator[Ledger]:
    """One SQLite ledger for all the examples of a test (a ledger per example would dominate the time)."""
    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    touched_ledger(url)
    with Ledger.connect(url) as opened:
        opened.upgrade()
        yield opened


def import_source(ledger: Ledger, source: Source, path: Path) -> pipeline.ImportReport:
    if source.kind == "orders":
        return pipeline.import_orders(ledger, path)
    if source.kind == "events":
        return pipeline.import_events(ledger, path)
    assert source.province is not None
    return pipeline.import_payouts(ledger, path, province=source.province, period=PERIOD)


@pytest.mark.parametrize("name", ["hcm", "danang", "dongnai", "thainguyen", "lamdong", "orders", "events"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations())
def test_mutated_files_are_refused_clearly_or_imported_whole(
    name: str,
    mutation: tuple[str, Mutation],
    month_files: dict[str, Source],
    hostile_ledger: Ledger,
    tmp_path: Path,
) -> None:
    label, mutate = mutation
    source = month_files[name]
    path = tmp_path / source.path.name
    path.write_bytes(mutate(source.path.read_bytes()))
    before = _batch_ids(hostile_ledger)
    try:
        report = import_source(hostile_ledger, source, path)
    except DisburseError as exc:  # anything else fails the test: a traceback for the officer
        assert path.name in str(exc), f"{label}: {exc}"
        assert _batch_ids(hostile_ledger) == before, f"{label}: refused but the batches changed"
        return
    grew = len(_batch_ids(hostile_ledger)) - len(before)
    assert grew == (1 if report.receipt.created else 0), label
    stored = hostile_ledger.batches().filter(pl.col("batch_id") == report.receipt.batch_id)
    assert stored["line_count"].to_list() == [report.receipt.line_count]
    if report.receipt.created:  # out of the books again, so that the next example meets an empty period
        hostile_ledger.reverse_batch(report.receipt.batch_id, reason=label, user="test")


# --- hypothesis: any text in a cell ends as the value or as a reject naming row, column and value --------


cell_text = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"-?[0-9.,]{1,14}", fullmatch=True),
    st.sampled_from(["=SUM(F2:F9)", "#N/A", "#VALUE!", "1e6", "١٢٣", "１２３", "NaN", "inf", " 500.000 "]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=cell_text, column=st.sampled_from(["Số tiền", "Ngày chi", "Mã xã", "Trạng thái", "Số CCCD"]))
def test_any_cell_text_is_read_or_rejected_by_row_column_and_value(
    value: str, column: str, month_files: dict[str, Source], hostile_ledger: Ledger, tmp_path: Path
) -> None:
    source = month_files["hcm"]
    lines = source.path.read_text("utf-8-sig").splitlines()
    header = lines[0].split(";")
    cells = lines[1].split(";")
    cleaned = value.replace(";", ",").replace("\r", " ").replace("\n", " ").replace('"', "'")
    cells[header.index(column)] = cleaned
    path = tmp_path / source.path.name
    path.write_text("\r\n".join([lines[0], ";".join(cells), *lines[2:]]), "utf-8-sig")
    before = _batch_ids(hostile_ledger)
    try:
        report = import_source(hostile_ledger, source, path)
    except InputError as exc:
        message = str(exc)
        assert path.name in message
        if "row(s) cannot be read" in message:
            assert f"row 2, column {column!r}" in message, message
        assert _batch_ids(hostile_ledger) == before
        return
    if report.receipt.created:
        hostile_ledger.reverse_batch(report.receipt.batch_id, reason=f"{column}={value!r}", user="test")
