"""The ledger: the only code that talks to the database (SQLAlchemy models, Alembic migrations, bulk I/O)."""

from disburse.ledger.ledger import Ledger
from disburse.ledger.receipts import BatchReceipt, RunReceipt

__all__ = ["BatchReceipt", "Ledger", "RunReceipt"]
