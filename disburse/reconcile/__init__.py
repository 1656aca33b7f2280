"""The reconcile core (pure: canonical frames in, frames out). See docs/ARCHITECTURE.md "Matching rules"."""

from disburse.reconcile.core import reconcile
from disburse.reconcile.model import ReconcileInput, ReconcileResult
from disburse.reconcile.rows import sort_exceptions

__all__ = ["ReconcileInput", "ReconcileResult", "reconcile", "sort_exceptions"]
