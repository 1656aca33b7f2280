"""Registry events file (EVENT_SCHEMA); the loader shares its machinery with the orders loader."""

from __future__ import annotations

from disburse.loaders.orders import load_events

__all__ = ["load_events"]
