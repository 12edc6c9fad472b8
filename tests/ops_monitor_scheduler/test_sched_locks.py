"""Run locks: two holders on one database exclude each other; a lock dies with its holder."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from ops_monitor.scheduling.locks import (
    AdvisoryRunLock,
    FileRunLock,
    ThreadRunLock,
    advisory_key,
    run_lock_for,
)

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def test_sqlite_file_database_gets_a_file_lock_beside_it(tmp_path: Path) -> None:
    lock = run_lock_for(create_engine(f"sqlite:///{tmp_path / 'ops.db'}"))

    assert isinstance(lock, FileRunLock)
    assert lock.path == tmp_path / "ops.db.scheduler.lock"


def test_sqlite_uri_form_and_memory_database() -> None:
    uri = run_lock_for(create_engine("sqlite:///file:/srv/ops.db?mode=rwc&uri=true"))
    memory = run_lock_for(create_engine("sqlite://"))

    assert isinstance(uri, FileRunLock)
    assert uri.path == Path("/srv/ops.db.scheduler.lock")
    assert isinstance(memory, ThreadRunLock)


def test_postgresql_gets_an_advisory_lock_with_a_stable_key() -> None:
    lock = run_lock_for(create_engine(POSTGRES_URL), namespace="ops")

    assert isinstance(lock, AdvisoryRunLock)
    assert lock.key == advisory_key("ops") != advisory_key("other")
    assert -(2**63) <= lock.key < 2**63


def test_file_lock_excludes_a_second_holder_until_released(tmp_path: Path) -> None:
    first, second = FileRunLock(tmp_path / "l"), FileRunLock(tmp_path / "l")

    with first.hold() as held, second.hold() as also:
        assert (held, also) == (True, False)
    with second.hold() as after:
        assert after is True


def test_file_lock_held_by_another_process_is_refused_then_freed_when_it_dies(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ops.db.scheduler.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, filelock; lock = filelock.FileLock(sys.argv[1]); lock.acquire();"
            " print('held', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with FileRunLock(path).hold() as held:
            assert held is False
    finally:
        holder.kill()
        holder.wait()
    with FileRunLock(path).hold() as held:
        assert held is True


def test_thread_lock_excludes_a_second_holder() -> None:
    lock = ThreadRunLock()

    with lock.hold() as held, lock.hold() as also:
        assert (held, also) == (True, False)
    with lock.hold() as again:
        assert again is True


@pytest.mark.postgres
def test_advisory_lock_excludes_another_session_and_is_released() -> None:
    engine = create_engine(POSTGRES_URL)
    try:
        engine.connect().close()
    except OperationalError as error:  # pragma: no cover - only when the server is truly down
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {error}")
    other_engine = create_engine(POSTGRES_URL)
    namespace = uuid.uuid4().hex  # parallel test runs never share a key
    first = AdvisoryRunLock(engine, namespace)
    second = AdvisoryRunLock(other_engine, namespace)
    try:
        with first.hold() as held, second.hold() as also:
            assert (held, also) == (True, False)
        with second.hold() as after:
            assert after is True
    finally:
        engine.dispose()
        other_engine.dispose()
