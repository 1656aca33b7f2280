"""Text and identifier normalisation as Polars expressions (vectorised; usable in any frame context).

Vietnamese names arrive in NFC, NFD, with old (``hoà``) or new (``hòa``) tone placement, or in legacy
TCVN3 bytes read as Latin-1. National IDs arrive with lost leading zeros (spreadsheets) or as 9-digit CMND.
"""

from __future__ import annotations

from typing import Final

import polars as pl

# TCVN 5712:1993 (.VnTime): Unicode letter <- single byte, in the order of DOMAIN.md.
_TCVN3_LETTERS: Final[str] = (
    "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵĂÂĐÊÔƠƯ"
)
_TCVN3_BYTES: Final[tuple[int, ...]] = (
    0xB5, 0xB8, 0xB6, 0xB7, 0xB9, 0xA8, 0xBB, 0xBE, 0xBC, 0xBD, 0xC6, 0xA9, 0xC7, 0xCA, 0xC8, 0xC9,
    0xCB, 0xAE, 0xCC, 0xD0, 0xCE, 0xCF, 0xD1, 0xAA, 0xD2, 0xD5, 0xD3, 0xD4, 0xD6, 0xD7, 0xDD, 0xD8,
    0xDC, 0xDE, 0xDF, 0xE3, 0xE1, 0xE2, 0xE4, 0xAB, 0xE5, 0xE8, 0xE6, 0xE7, 0xE9, 0xAC, 0xEA, 0xED,
    0xEB, 0xEC, 0xEE, 0xEF, 0xF3, 0xF1, 0xF2, 0xF4, 0xAD, 0xF5, 0xF8, 0xF6, 0xF7, 0xF9, 0xFA, 0xFD,
    0xFB, 0xFC, 0xFE, 0xA1, 0xA2, 0xA7, 0xA3, 0xA4, 0xA5, 0xA6,
)  # fmt: skip
assert len(_TCVN3_LETTERS) == len(_TCVN3_BYTES) == len(set(_TCVN3_BYTES))

# The byte as it appears once a TCVN3 file is read as Latin-1, and the letter it stands for.
TCVN3_TO_UNICODE: Final[dict[str, str]] = {
    chr(b): letter for b, letter in zip(_TCVN3_BYTES, _TCVN3_LETTERS, strict=True)
}
# Upper-case toned vowels have no byte of their own: the capitals font shows the lower-case byte.
UNICODE_TO_TCVN3: Final[dict[str, str]] = {letter: byte for byte, letter in TCVN3_TO_UNICODE.items()}


def tcvn3_encode(text: str) -> str:
    """Unicode -> TCVN3 bytes shown as Latin-1 (what a legacy spreadsheet cell holds). For fixtures."""
    import unicodedata

    out = []
    for ch in unicodedata.normalize("NFC", text):
        byte = UNICODE_TO_TCVN3.get(ch) or UNICODE_TO_TCVN3.get(ch.lower())
        out.append(byte if byte is not None else ch)
    return "".join(out)


def tcvn3_decode(expr: pl.Expr) -> pl.Expr:
    """TCVN3 text read as Latin-1 -> Unicode NFC, title-cased (the capitals font cannot carry case)."""
    return (
        expr.str.replace_many(list(TCVN3_TO_UNICODE), list(TCVN3_TO_UNICODE.values()))
        .str.to_titlecase()
        .str.normalize("NFC")
    )


def nfc(expr: pl.Expr) -> pl.Expr:
    """Unicode NFC with runs of white space collapsed and ends trimmed."""
    return expr.str.normalize("NFC").str.replace_all(r"\s+", " ").str.strip_chars()


def fold_name(expr: pl.Expr) -> pl.Expr:
    """Compare key for names: no diacritics or tone marks (so tone placement is moot), đ->d, lower case,
    single spaces. ``Uỷ  QUYỀN`` and ``ủy quyền`` fold to ``uy quyen``."""
    return (
        expr.str.normalize("NFD")
        .str.replace_all(r"\p{M}", "")
        .str.replace_all("[đĐ]", "d")
        .str.to_lowercase()
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def normalise_national_id(expr: pl.Expr) -> pl.Expr:
    """Digits only; 10-11 digits are a CCCD that lost leading zeros (pad to 12), 7-8 a CMND (pad to 9)."""
    digits = expr.cast(pl.String).str.replace_all(r"\D", "")
    n = digits.str.len_chars()
    return (
        pl.when(n.is_in([10, 11]))
        .then(digits.str.zfill(12))
        .when(n.is_in([7, 8]))
        .then(digits.str.zfill(9))
        .when(n == 0)
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(digits)
    )
