"""Test hook: kill the process at a named stage of an import or a run, to prove the ledger is crash-safe.

``DISBURSE_CRASH_AT=<stage>`` makes ``reached(stage)`` send SIGKILL to its own process: no cleanup, no
rollback, no ``finally``, as with a power cut or an officer's ``kill -9``. Unset (always, outside the crash
tests) it costs one dictionary lookup. The stages, in the order a command reaches them:

- import:    ``import.batch_row``, ``import.lines``, ``import.before_commit``, ``import.after_commit``
- reconcile: ``run.run_row``, ``run.outcomes``, ``run.exceptions``, ``run.journal``, ``run.before_commit``,
  ``run.after_commit`` (the run is recorded; the reports are not written yet)
"""

from __future__ import annotations

import os
import signal

ENV = "DISBURSE_CRASH_AT"

IMPORT_STAGES = ("import.batch_row", "import.lines", "import.before_commit", "import.after_commit")
RUN_STAGES = (
    "run.run_row",
    "run.outcomes",
    "run.exceptions",
    "run.journal",
    "run.before_commit",
    "run.after_commit",
)


def reached(stage: str) -> None:
    """SIGKILL this process if DISBURSE_CRASH_AT names ``stage``."""
    if os.environ.get(ENV) == stage:
        os.kill(os.getpid(), signal.SIGKILL)
