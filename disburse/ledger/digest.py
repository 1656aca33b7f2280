"""The content digest batches recorded before migration 0002, recomputed by ``verify()`` for them only.

It hashes the canonical frame in line order as CSV with explicit nulls. Batches imported since record
``segments.chain_digest`` instead (the sha256 of their stored segments), which costs no second pass over the
lines; the migrated ledger's audit chain still holds the old digests, so they stay verifiable.
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
