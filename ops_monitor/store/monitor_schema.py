"""The cron monitors' tables, on their own `MetaData` so that their migration creates exactly them.

`ops_cron_monitors` holds each monitor's configuration (JSON, as `monitor_config` reads) and what
its evaluation remembers; `ops_cron_checkins` one row per run or expected run, keyed by monitor
and check-in id so that a finishing check-in updates the row its start wrote.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

Id = BigInteger().with_variant(Integer(), "sqlite")
When = DateTime(timezone=True)

monitors = Table(
    "ops_cron_monitors",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("slug", String(100), nullable=False, unique=True),
    Column("config", Text, nullable=False),  # JSON: MonitorConfig.to_json()
    Column("ping_key", String(64), nullable=False, unique=True),
    Column("origin", String(20), nullable=False),  # config, api, checkin, self
    Column("state", String(20), nullable=False),
    Column("state_since", When, nullable=False),
    Column("last_outcome", String(20)),
    Column("paused", Boolean, nullable=False, default=False),
    Column("next_expected", When),
    Column("evaluated_at", When, nullable=False),
    Column("last_checkin_at", When),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("consecutive_ok", Integer, nullable=False, default=0),
    Column("incident", Boolean, nullable=False, default=False),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
)

checkins = Table(
    "ops_cron_checkins",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "monitor_id", Id, ForeignKey("ops_cron_monitors.id", ondelete="CASCADE"), nullable=False
    ),
    Column("checkin_id", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("at", When, nullable=False),
    Column("slot", When),
    Column("started_at", When),
    Column("finished_at", When),
    Column("duration", Float),
    Column("slots", Integer, nullable=False, default=1),
    Column("origin", String(20), nullable=False),
    Column("exit_status", Integer),
    Column("excerpt", Text),
    UniqueConstraint("monitor_id", "checkin_id", name="ops_cron_checkins_run"),
    Index("ops_cron_checkins_open", "monitor_id", "status"),
    Index("ops_cron_checkins_at", "monitor_id", "at"),
)
