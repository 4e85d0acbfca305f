"""The generation every server process reads before it trusts its memory: moved by another
process of the host through the shared file, by another host through PostgreSQL's
NOTIFY, and moving on every read while the notifications are out of reach."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import create_engine

from pixelvault.services import coherence
from tests.conftest import spawn_python


def test_a_bump_in_another_process_moves_the_hosts_generation(tmp_path: Path) -> None:
    path = tmp_path / "var" / coherence.FILE_NAME
    mine = coherence.FileGeneration(path)
    try:
        before = mine.current()
        other = spawn_python(
            "import sys; from pathlib import Path; from pixelvault.services import coherence;"
            "g = coherence.FileGeneration(Path(sys.argv[1]));"
            "[g.bump() for _ in range(3)]; g.close()", str(path))
        assert other.wait(timeout=60) == 0, other.stderr.read() if other.stderr else ""
        assert mine.current() == before + 3
        mine.bump()
        assert coherence.FileGeneration(path).current() == before + 4
    finally:
        mine.close()


def test_caches_forget_when_the_generation_moves(tmp_path: Path) -> None:
    source = coherence.FileGeneration(tmp_path / coherence.FILE_NAME)
    coherence.install(source)
    try:
        seen = coherence.generation()
        assert coherence.generation() == seen  # nothing changed: memory is trusted
        coherence.FileGeneration(tmp_path / coherence.FILE_NAME).bump()  # another process
        assert coherence.generation() != seen
    finally:
        coherence.uninstall(source)


def test_notifications_reach_other_hosts_and_deafness_trusts_nothing(pg_database: str
                                                                     ) -> None:
    engine = create_engine(pg_database.replace("postgresql://", "postgresql+psycopg://"))
    listener = coherence.NotifiedGeneration(pg_database, engine)
    talker = coherence.NotifiedGeneration(pg_database, engine)
    try:
        deadline = time.monotonic() + 20
        while not (listener.listening and talker.listening):
            assert time.monotonic() < deadline, "never started listening"
            time.sleep(0.05)
        before = listener.current()
        assert listener.current() == before
        talker.bump()
        while listener.current() == before:
            assert time.monotonic() < deadline, "the notification never arrived"
            time.sleep(0.05)
    finally:
        listener.close()
        talker.close()
        engine.dispose()
    deaf = coherence.NotifiedGeneration("postgresql://nobody@127.0.0.1:1/none", engine,
                                        retry=60)
    try:
        assert deaf.current() != deaf.current()  # no memory is trusted meanwhile
    finally:
        deaf.close()
