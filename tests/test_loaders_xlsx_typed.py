"""The typed read of a spreadsheet starts before its headers are known (a guess from the profile's headers):
a sheet whose headers are written otherwise must read the same, through the second typed read."""

from __future__ import annotations

from pathlib import Path

import pytest
from polars.testing import assert_frame_equal
from test_loaders import PERIOD, canonical, sums, write

from disburse.loaders import read
from disburse.loaders.payouts import load_payouts
from disburse.profile import ProvinceProfile, all_profiles

SPREADSHEET_DIALECTS = sorted(d for d, p in all_profiles().items() if p.container == "xlsx")


def _shouting(profile: ProvinceProfile) -> ProvinceProfile:
    """The same profile with every header in capitals: still the same columns (headers match after
    folding), but not the names the early typed read guessed."""
    return profile.model_copy(update={"columns": {h.upper(): f for h, f in profile.columns.items()}})


@pytest.mark.parametrize("dialect", SPREADSHEET_DIALECTS)
def test_headers_not_as_the_profile_writes_them_read_the_same(
    tmp_path: Path, dialect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = all_profiles()[dialect]
    frame = canonical(profile)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    as_profile = load_payouts(write(tmp_path / "a", profile, frame, sums(frame)), profile, PERIOD)

    typed_reads: list[tuple[str, ...]] = []
    original = read._typed_sheet

    def counted(path: Path, target: str | int, header_row: int, wanted: dict[str, read.TypedKind]):  # type: ignore[no-untyped-def]
        typed_reads.append(tuple(wanted))
        return original(path, target, header_row, wanted)

    monkeypatch.setattr(read, "_typed_sheet", counted)
    shouted = load_payouts(write(tmp_path / "b", _shouting(profile), frame, sums(frame)), profile, PERIOD)

    assert as_profile.rejects.is_empty() and shouted.rejects.is_empty()
    assert_frame_equal(shouted.frame, as_profile.frame)
    # The guess (the profile's headers) did not match the sheet's: the typed columns were read again, by
    # the names found in the sheet.
    assert len(typed_reads) == 2
    assert typed_reads[0] != typed_reads[1]
    assert all(h == h.upper() for h in typed_reads[1])
