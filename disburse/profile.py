"""Province profiles: everything that differs between post offices, as data (one TOML file per dialect).

A sixth province is a new TOML file in ``disburse/profiles/`` or in the folder named by
``DISBURSE_PROFILES_DIR``; no code changes.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from disburse.schema import PayoutStatus

# Canonical payout fields a dialect's header may map (DOMAIN.md "Payout line").
PayoutField = Literal[
    "row_number",  # a leading STT column: read and ignored
    "payout_id",
    "order_ref",
    "beneficiary_id",
    "national_id",
    "full_name",
    "amount_paid_vnd",
    "fee_vnd",
    "paid_on",
    "status",
    "receiver_national_id",
    "ward_code",
    "post_office_code",
]


class FeeTariff(BaseModel):
    """The post office's fee per paid line: a flat amount, or a rate in basis points rounded half-up."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["flat", "percent"]
    flat_vnd: int = Field(default=0, ge=0)
    rate_bp: int = Field(default=0, ge=0, description="1 bp = 0.01 %; 0.70 % = 70")

    def fee_for(self, amount_paid_vnd: int) -> int:
        """Scalar reference of the tariff (the core uses the same arithmetic as an expression)."""
        if amount_paid_vnd <= 0:
            return 0
        if self.kind == "flat":
            return self.flat_vnd
        return (amount_paid_vnd * self.rate_bp + 5_000) // 10_000


class PaymentWindow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    start_day: int = Field(default=1, ge=1, le=31)
    end_day: int = Field(default=10, ge=1, le=31)


class ControlFooter(BaseModel):
    """A last line whose first non-empty cell is ``label``, carrying the file's paid and fee sums."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    label: str


class ProvinceProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    dialect: str  # profile name, e.g. "hcm"
    province_code: str = Field(pattern=r"^\d{2}$")
    province_name: str
    department: str  # the Sở that orders the payments, for report headers
    legacy_codes: tuple[str, ...] = ()
    default: bool = True  # the profile used for this province when --dialect is not given

    container: Literal["csv", "xlsx"]
    encoding: str = "utf-8"  # csv only: utf-8, utf-8-sig, cp1258
    delimiter: str = ","
    sheet: str | None = None  # xlsx only; None = first sheet
    header_row: int = Field(default=1, ge=1)  # 1-based row of the header
    columns: dict[str, PayoutField]  # header text in the file -> canonical field
    date_format: str  # strftime pattern, or "excel" for spreadsheet date cells
    amount_format: Literal["plain", "dot_thousands", "comma_thousands", "number"]
    national_id_as_number: bool = False  # spreadsheet numbers: leading zeros lost
    text_form: Literal["NFC", "NFD"] = "NFC"  # how the file writes text (loaders always give NFC)
    name_encoding: Literal["unicode", "tcvn3"] = "unicode"
    status_words: dict[str, PayoutStatus]  # file word (compared after folding) -> canonical status
    fee: FeeTariff
    window: PaymentWindow = PaymentWindow()
    amount_tolerance_vnd: int = Field(default=0, ge=0)
    control_footer: ControlFooter | None = None

    @model_validator(mode="after")
    def _required_fields_mapped(self) -> ProvinceProfile:
        mapped = set(self.columns.values())
        required = {"payout_id", "beneficiary_id", "national_id", "full_name", "amount_paid_vnd", "status"}
        missing = required - mapped
        if missing:
            raise ValueError(f"profile {self.dialect}: columns map no header to {sorted(missing)}")
        if self.container == "xlsx" and self.delimiter != ",":
            raise ValueError(f"profile {self.dialect}: a delimiter means nothing for xlsx")
        return self

    @property
    def all_codes(self) -> tuple[str, ...]:
        return (self.province_code, *self.legacy_codes)


class ProfileError(ValueError):
    pass


def _profile_files() -> list[tuple[str, str]]:
    """(source name, TOML text) of the packaged profiles, then those in DISBURSE_PROFILES_DIR."""
    found: list[tuple[str, str]] = []
    for entry in sorted(resources.files("disburse.profiles").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            found.append((f"disburse/profiles/{entry.name}", entry.read_text(encoding="utf-8")))
    extra = os.environ.get("DISBURSE_PROFILES_DIR")
    if extra:
        for path in sorted(Path(extra).glob("*.toml")):
            found.append((str(path), path.read_text(encoding="utf-8")))
    return found


@cache
def _load_all(_extra_dir: str | None) -> dict[str, ProvinceProfile]:
    profiles: dict[str, ProvinceProfile] = {}
    for source, text in _profile_files():
        try:
            profile = ProvinceProfile.model_validate(tomllib.loads(text))
        except (tomllib.TOMLDecodeError, ValueError) as exc:
            raise ProfileError(f"{source}: not a valid province profile: {exc}") from exc
        if profile.dialect in profiles:
            raise ProfileError(f"{source}: dialect {profile.dialect!r} is defined twice")
        profiles[profile.dialect] = profile
    return profiles


def all_profiles() -> dict[str, ProvinceProfile]:
    """Every profile by dialect name (cached per DISBURSE_PROFILES_DIR)."""
    return _load_all(os.environ.get("DISBURSE_PROFILES_DIR"))


def pilot_provinces() -> dict[str, ProvinceProfile]:
    """The default profile of each province, by current province code, sorted by code."""
    defaults = {p.province_code: p for p in all_profiles().values() if p.default}
    return dict(sorted(defaults.items()))


def current_code(code: str) -> str:
    """Map a province code, current or legacy, to the current one."""
    code = code.strip().zfill(2)
    for profile in all_profiles().values():
        if code in profile.all_codes:
            return profile.province_code
    known = ", ".join(sorted({c for p in all_profiles().values() for c in p.all_codes}))
    raise ProfileError(f"province code {code!r} has no profile (known codes: {known})")


def profile_for(province_code: str, dialect: str | None = None) -> ProvinceProfile:
    """The profile to read a payout file of this province with (its default one unless ``dialect``)."""
    current = current_code(province_code)
    if dialect is not None:
        profile = all_profiles().get(dialect)
        if profile is None:
            raise ProfileError(f"unknown dialect {dialect!r} (known: {', '.join(sorted(all_profiles()))})")
        if profile.province_code != current:
            raise ProfileError(
                f"dialect {dialect!r} is for province {profile.province_code}, not {current}"
            )
        return profile
    return pilot_provinces()[current]
