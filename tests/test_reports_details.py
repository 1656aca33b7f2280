"""The core's English details become Vietnamese in the PDFs; unknown forms pass through."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from disburse.reports.pdf_details import detail_vi

# Exactly as the reconcile core writes them (taken from a demo run's exceptions.csv).
CASES = [
    ("file 79_hcm_2026-10.csv: footer paid 1360919800 / fee 6679100 VND, lines sum to paid 1359919800 / "
     "fee 6679100 VND",
     "Tệp 79_hcm_2026-10.csv: dòng Tổng cộng ghi đã chi 1.360.919.800 ₫, phí 6.679.100 ₫; cộng các dòng: "
     "đã chi 1.359.919.800 ₫, phí 6.679.100 ₫"),
    ("same national_id and allowance BTXH.NCT as order(s) 48-202610-0000380",
     "Trùng số CCCD và chế độ BTXH.NCT với lệnh chi 48-202610-0000380"),
    ("order already paid by line BD19-202610-0000062 this period",
     "Lệnh chi đã được chi bởi giao dịch BD19-202610-0000062 trong kỳ này"),
    ("order already paid in period 2026-09 (earlier run)",
     "Lệnh chi đã được chi ở kỳ 09/2026 (lần đối soát trước)"),
    ("reported fee 16118 VND, tariff 15618 VND", "Phí bưu điện báo 16.118 ₫, theo biểu phí 15.618 ₫"),
    ("payout national_id 066354673161 vs order 031185477046",
     "CCCD trên kết quả chi 066354673161, trên lệnh chi 031185477046"),
    ("paid at ward 25747, order's ward 99999",
     "Chi tại Phường Thủ Dầu Một (25747), lệnh chi thuộc Mã xã 99999 (99999)"),
    ("no payout line covers this order", "Không có dòng kết quả chi trả nào cho lệnh chi này"),
    ("payout name 'Quách Quang Hòa' vs order name 'Huỳnh Quang Yến'",
     "Họ tên trên kết quả chi «Quách Quang Hòa», trên lệnh chi «Huỳnh Quang Yến»"),
    ("line paid 1250000 VND for orders totalling 750000 VND", "Đã chi 1.250.000 ₫, tổng lệnh chi 750.000 ₫"),
    ("deceased 2026-09-20, paid 2026-10-02 for period 2026-10",
     "Chết ngày 20/09/2026, vẫn chi ngày 02/10/2026 cho kỳ 10/2026"),
    ("paid on 2026-10-21 outside the payment window of 2026-10",
     "Chi ngày 21/10/2026, ngoài thời gian chi trả kỳ 10/2026"),
    ("no open order for beneficiary 19-BTXH-9998093",
     "Không có lệnh chi nào đang mở của đối tượng 19-BTXH-9998093"),
    ("names order 79-202610-0009999, which is neither of the period nor open",
     "Ghi lệnh chi 79-202610-0009999, không thuộc kỳ này và không còn mở"),
    ("paid 2026-10-06 to proxy whose authorisation ended 2026-08-20",
     "Chi ngày 06/10/2026 cho người nhận thay, giấy ủy quyền hết hạn ngày 20/08/2026"),
    ("paid to proxy 068167553172; authorised proxy: (none)",
     "Chi cho người nhận thay CCCD 068167553172; người được ủy quyền: không có"),
    ("unpaid in 2026-08, 2026-09 and 2026-10: review the beneficiary",
     "Không nhận tiền các kỳ 08/2026, 09/2026 và 10/2026: cần xác minh đối tượng"),
    ("reported unpaid: UNPAID_ABSENT (line BD19-202610-0000297)",
     "Bưu điện báo chưa chi: vắng mặt (giao dịch BD19-202610-0000297)"),
]


@pytest.mark.parametrize(("english", "vietnamese"), CASES)
def test_known_forms_are_translated(english: str, vietnamese: str) -> None:
    assert detail_vi(english) == vietnamese


def test_unknown_forms_and_nulls_pass_through() -> None:
    assert detail_vi("something new from the core") == "something new from the core"
    assert detail_vi("Vắng mặt") == "Vắng mặt"
    assert detail_vi(None) is None


def test_a_column_is_rewritten_as_each_detail_is() -> None:
    import polars as pl

    from disburse.reports.pdf_details import details_vi

    details = [english for english, _ in CASES] + [None, "", "something new from the core", CASES[0][0]]
    assert details_vi(pl.Series(details, dtype=pl.String)).to_list() == [detail_vi(d) for d in details]


# Details that probe where Python's and Polars' regular expressions could read a form differently: optional
# signs, empty and quoted names, "(none)", separators Python counts as whitespace, other scripts' digits,
# line breaks, near-misses of each form.
TRICKY = [
    "line paid -5 VND for orders totalling 0 VND",
    "line paid 00120 VND for orders totalling 1 VND",
    "line paid ١٢٣ VND for orders totalling 5 VND",
    "line paid 12 VND for orders totalling 5 VND ",
    " line paid 12 VND for orders totalling 5 VND",
    "line paid 12 VND for orders totalling 5 VND\n",
    "line paid 12 VND\nfor orders totalling 5 VND",
    "payout name '' vs order name ''",
    "payout name 'O'Neil' vs order name 'a' vs order name 'b'",
    "paid to proxy (none); authorised proxy: (none)",
    "paid to proxy a; b; authorised proxy: c; authorised proxy: d",
    "payout national_id (none) vs order vs order 1",
    "deceased 2026-09-20, paid 2026-10-02\x1c for period 2026-10",
    "deceased 2026-09-20, paid 2026-10-02\xa0x for period 2026-10",
    "deceased 2026-13-45, paid x-y for period 2026",
    "paid at ward 25747, order's ward 25747",
    "paid at ward abc, order's ward 12",
    "reported unpaid: UNPAID_SOMETHING (line BD-1)",
    "reported unpaid: UNPAID_ABSENT (line BD-1) ",
    "order already paid in period 2026-09 (earlier run)(earlier run)",
    "same national_id and allowance X as order(s) 1, 2, 3",
    "file a: b.csv: footer paid 1 / fee 2 VND, lines sum to paid 3 / fee -4 VND",
    "unpaid in 2026-08, 2026-09 and 2026-10: review the beneficiary",
    "no payout line covers this order.",
    "NO PAYOUT LINE COVERS THIS ORDER",
    "paid 2026-10-06 to proxy whose authorisation ended 2026-08-20",
    "paid on 2026-10-21 outside the payment window of 2026-10",
    "",
    None,
]


def test_a_column_agrees_with_each_detail_on_tricky_forms() -> None:
    import polars as pl

    from disburse.reports.pdf_details import details_vi

    column = pl.Series(TRICKY, dtype=pl.String)
    assert details_vi(column).to_list() == [detail_vi(d) for d in TRICKY]
    assert column.to_list() == TRICKY  # the input is left as it was


def test_a_column_agrees_with_each_detail_on_a_core_shaped_month() -> None:
    from disburse.reports.pdf_details import details_vi
    from disburse.reports.pdf_sample import sample_exceptions

    details = sample_exceptions(3_000, like_core=True, wards=40, seed=5)["detail"]
    rewritten = details_vi(details).to_list()
    assert rewritten == [detail_vi(d) for d in details.to_list()]
    assert not set(rewritten) & set(details.to_list())  # every form the sample writes is translated


def _edited(case: tuple[str, int, str]) -> str:
    detail, at, inserted = case
    return detail[:at] + inserted + detail[at:]


_EDITED = st.lists(st.tuples(st.sampled_from([english for english, _ in CASES] + [d for d in TRICKY if d]),
                             st.integers(0, 120), st.text(max_size=3)).map(_edited), max_size=30)


@settings(max_examples=300, deadline=None)
@given(details=_EDITED)
def test_a_column_agrees_with_each_detail_on_edited_forms(details: list[str]) -> None:
    import polars as pl

    from disburse.reports.pdf_details import details_vi

    assert details_vi(pl.Series(details, dtype=pl.String)).to_list() == [detail_vi(d) for d in details]
