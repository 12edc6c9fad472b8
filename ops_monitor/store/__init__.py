"""Persistence for the monitor: schema, migrations, and the queries the service runs."""

from ops_monitor.store.database import ScanLockHeld, Store

__all__ = ["ScanLockHeld", "Store"]
