"""Content digest of a batch's canonical lines, recomputed by ``verify()`` from the stored rows.

The file's sha256 says which bytes were imported; this digest says what the ledger made of them. It hashes
the canonical frame in line order (line_no, kept in storage) as CSV with explicit nulls, so any edit of a
stored line (or a lost or added line) changes it.
"""

from __future__ import annotations

import hashlib

import polars as pl

from disburse.ledger.codec import to_storage
from disburse.schema import Schema

_CHUNK = 250_000


def content_digest(frame: pl.DataFrame, schema: Schema) -> str:
    stored = to_storage(frame, schema).with_columns(pl.col(pl.Date).dt.to_string("%Y-%m-%d"))
    digest = hashlib.sha256()
    digest.update(",".join(stored.columns).encode())
    for offset in range(0, stored.height, _CHUNK):
        chunk = stored.slice(offset, _CHUNK)
        digest.update(
            chunk.write_csv(include_header=False, null_value="\\N", quote_style="non_numeric").encode()
        )
    return digest.hexdigest()
