"""A sixth dialect is data only: a TOML file in DISBURSE_PROFILES_DIR, no code change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal
from test_loaders import PERIOD, canonical

from disburse import profile as profile_module
from disburse.fixtures.dialects import payout_filename, write_payouts
from disburse.loaders.payouts import load_payouts

# Old Đắk Nông post-office files (legacy code 67, now part of Lâm Đồng 68): their own headers, `|`-separated
# UTF-8 with BOM, dd.mm.yyyy dates, comma thousands, a footer and their own status words.
DAKNONG = """
dialect = "daknong_legacy"
province_code = "68"
province_name = "Lâm Đồng (Đắk Nông cũ)"
department = "Sở Nội vụ tỉnh Lâm Đồng"
default = false
container = "csv"
encoding = "utf-8-sig"
delimiter = "|"
header_row = 3
date_format = "%d.%m.%Y"
amount_format = "comma_thousands"
fee = { kind = "percent", rate_bp = 80 }
control_footer = { label = "Cộng" }

[columns]
"Số GD" = "payout_id"
"Lệnh" = "order_ref"
"Mã ĐT" = "beneficiary_id"
"CCCD" = "national_id"
"Tên" = "full_name"
"Tiền" = "amount_paid_vnd"
"Phí DV" = "fee_vnd"
"Ngày" = "paid_on"
"TT" = "status"
"Người nhận thay" = "receiver_national_id"
"Xã" = "ward_code"
"Bưu cục" = "post_office_code"

[status_words]
"Đã nhận" = "PAID"
"Nhận thay" = "PAID_PROXY"
"Tại nhà" = "PAID_HOME"
"Vắng" = "UNPAID_ABSENT"
"Chuyển" = "UNPAID_MOVED"
"Chết" = "UNPAID_DECEASED"
"Từ chối" = "UNPAID_REFUSED"
"""


@pytest.fixture
def profiles_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "daknong_legacy.toml").write_text(DAKNONG, encoding="utf-8")
    monkeypatch.setenv("DISBURSE_PROFILES_DIR", str(folder))
    profile_module._load_all.cache_clear()
    yield folder
    profile_module._load_all.cache_clear()


def test_sixth_profile_writes_and_loads_without_code(profiles_dir: Path, tmp_path: Path) -> None:
    profile = profile_module.all_profiles()["daknong_legacy"]
    assert profile_module.pilot_provinces()["68"].dialect == "lamdong"  # not the default for 68
    assert profile_module.profile_for("67", "daknong_legacy") is profile
    frame = canonical(profile)
    path = tmp_path / payout_filename(profile, PERIOD)
    paid, fee = int(frame["amount_paid_vnd"].sum()), int(frame["fee_vnd"].sum())
    write_payouts(frame, profile, path, (paid, fee))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"|1,500,000|" in raw
    loaded = load_payouts(path, profile, PERIOD)
    assert loaded.rejects.is_empty(), loaded.rejects
    assert_frame_equal(loaded.frame, frame)
    assert loaded.control_totals.select("footer_paid_vnd", "lines_fee_vnd").row(0) == (paid, fee)
