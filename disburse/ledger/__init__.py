"""The ledger: the only code that talks to the database (SQLite or PostgreSQL through psycopg 3).

``Ledger`` (ledger.py) is the whole public surface; the modules behind it hold one concern each:

- models.py      SQLAlchemy 2.0 typed tables; migrations/ (Alembic, packaged with alembic.ini) creates them
- engine.py      URL resolution, SQLite pragmas (WAL, busy timeout, foreign keys), write/read transactions
- migrate.py     ``alembic upgrade head`` from the installed package
- segments.py    lines and run outcomes as Arrow IPC segments, one row per 250k lines (the bulk path)
- bulk.py        row tables (run exceptions, summaries, control totals) in (executemany / COPY) and out
- codec.py       each kind's schema, text limits, required columns; canonical frame <-> row columns
- digest.py      the content digest of batches imported before migration 0002 (recomputed by verify)
- batches.py     import (idempotent by the file's digest), supersede / reverse by new rows, listing
- inputs.py      ``reconcile_input``: a period's orders, prior orders with their state, events, payouts
- runs.py        ``record_run`` (idempotent by period + params + batch ids), ``run_results``
- journal.py     double-entry postings of each run's summary, balances, cash close
- exception_cases.py  exception identity across runs, acknowledged / resolved
- periods.py     close / reopen per province and period
- audit.py       hash-chained append-only audit log
- history.py, verify.py

Nothing is ever updated or deleted: corrections are new rows, which is what ``verify()`` relies on.
"""

from disburse.ledger.ledger import Ledger
from disburse.ledger.receipts import BatchReceipt, RunReceipt

__all__ = ["BatchReceipt", "Ledger", "RunReceipt"]
