"""Is a payout file the one of the province and period it is imported for? A file-level check.

A post office may send (or an officer pick) the file of another province or another month; its lines read
fine, so only their ward codes and payment dates can tell. *Decision*: the import is refused when most of the
file's lines say it belongs elsewhere, naming where, and accepted otherwise (a few lines paid in another
province's ward, or paid late, are the reconciliation's business: LOCATION_MISMATCH, PAID_LATE). A file of
a dialect with a control-total footer must have it: without it the file may have been cut short.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import polars as pl

from disburse.errors import InputError
from disburse.loaders.model import LoadedPayouts
from disburse.profile import ProvinceProfile

# UTF-8 Vietnamese read as Latin-1 / cp1252: the lead bytes of ạ-ỹ (E1 BA/BB), đ (C4 91), à-ý (C3 xx) show as
# these pairs, which no Vietnamese name contains.
MOJIBAKE = r"á[º»]|Ì[\x{80}-\x{A3}]|Ä[\x{80}-\x{BF}‘]|Ã[\x{80}-\x{BF}¡-¿]|Æ[°¯]"

# More than this share of the lines must point elsewhere before the file is refused.
MAJORITY = 0.5


@cache
def ward_provinces() -> pl.DataFrame:
    """ward_code (5 digits) -> current province_code (2 digits), from the vietnam-provinces package."""
    from vietnam_provinces import Ward

    pairs = [(f"{int(w.code):05d}", f"{int(w.province_code):02d}") for w in Ward.iter_all()]
    return pl.DataFrame(pairs, schema={"ward_code": pl.String, "ward_province": pl.String}, orient="row")


def check_payout_scope(loaded: LoadedPayouts, profile: ProvinceProfile, period: str) -> None:
    """InputError when most lines are paid in wards of another province, or dated outside ``period``, or
    when the dialect ends its files with a control-total line and this file has none (cut short?)."""
    frame = loaded.frame
    name = loaded.source.name
    province_code = profile.province_code
    if profile.control_footer is not None and loaded.control_totals.is_empty():
        raise InputError(
            f"{name}: the file has no {profile.control_footer.label!r} line with its control totals, which "
            f"every {profile.dialect} payout file ends with: it may be cut short; ask the post office for "
            "the complete file."
        )
    wards = frame.get_column("ward_code").drop_nulls()
    if wards.len():
        counts = (
            wards.value_counts(name="n")
            .join(ward_provinces(), on="ward_code", how="left")
            .group_by("ward_province")
            .agg(pl.col("n").sum())
            .sort("n", "ward_province", descending=[True, False], nulls_last=True)
        )
        top, top_n = counts.row(0)
        own = counts.filter(pl.col("ward_province") == province_code).get_column("n").sum()
        if own <= MAJORITY * wards.len() and top is not None and top != province_code:
            raise InputError(
                f"{name}: {top_n} of its {wards.len()} lines are paid in wards of province {top}, "
                f"not {province_code}; is it province {top}'s file? Import it with --province {top}."
            )
    garbled = frame.get_column("full_name").drop_nulls().filter(
        frame.get_column("full_name").drop_nulls().str.contains(MOJIBAKE)
    )
    if garbled.len():
        raise InputError(
            f"{name}: names such as {garbled[0]!r} are UTF-8 text that was read as Latin-1 and saved again "
            "(mojibake); ask the post office for the file as its system exported it."
        )
    dates = frame.get_column("paid_on").drop_nulls()
    if dates.len():
        first = date(int(period[:4]), int(period[5:7]), 1)
        months = dates.dt.strftime("%Y-%m")
        inside = int((months == first.strftime("%Y-%m")).sum())
        if inside <= MAJORITY * dates.len():
            counted = months.value_counts(name="n").sort("n", "paid_on", descending=[True, False])
            top_month, top_n = counted.row(0)
            raise InputError(
                f"{name}: {top_n} of its {dates.len()} payment dates are in {top_month} and only {inside} "
                f"in {period}; is it the file of {top_month}? Import it with --period {top_month}."
            )
