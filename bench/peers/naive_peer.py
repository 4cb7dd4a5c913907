"""BASELINE ONLY: a naive leaderboard service, for comparison with questgraph in bench/load.py.

This is *not* questgraph and not part of it. It is what a straightforward first implementation looks
like: FastAPI + the SQLAlchemy ORM on PostgreSQL, with a viewer's rank computed by ``COUNT(*)`` of the
entries ranked above it (with the D14 tie-break: score, then write time, then entry id) and the page
around it read with ``ORDER BY … OFFSET``. An index in rank order makes the count an index range
scan, which is still O(rank): the cost grows with the board and with the viewer's depth.

It skips authentication (the user is a query parameter), which only flatters it. Its own dependencies
are in bench/peers/requirements.txt (a separate venv). Configured by NAIVE_PEER_DATABASE (a SQLAlchemy
URL, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dqgbench_naive``).

    NAIVE_PEER_DATABASE=… uvicorn --app-dir bench/peers naive_peer:app --workers 2 --no-access-log
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, HTTPException
from sqlalchemy import BigInteger, Index, Integer, String, and_, create_engine, func, or_, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Board(Base):
    __tablename__ = "naive_boards"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    api_name: Mapped[str] = mapped_column(String(64), unique=True)


class EntryRow(Base):
    __tablename__ = "naive_entries"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    board_id: Mapped[int] = mapped_column(Integer, index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[int] = mapped_column(BigInteger)
    written_us: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("naive_entries_user", "board_id", "user_id", unique=True),)


# The index a careful first implementation adds: in the page's order (score descending, then the D14
# tie-break), so the page is an index scan and the count an index range scan; both still O(rank).
Index("naive_entries_rank", EntryRow.board_id, EntryRow.score.desc(), EntryRow.written_us, EntryRow.id)


engine = create_engine(os.environ.get("NAIVE_PEER_DATABASE", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
                       pool_size=8, max_overflow=0)
app = FastAPI()
PAGE = 25


def above(board_id: int, me: EntryRow) -> Any:
    """Entries ranked above ``me`` (HIGHER_IS_BETTER, D14 tie-break)."""
    return and_(EntryRow.board_id == board_id, or_(
        EntryRow.score > me.score,
        and_(EntryRow.score == me.score, EntryRow.written_us < me.written_us),
        and_(EntryRow.score == me.score, EntryRow.written_us == me.written_us, EntryRow.id < me.id),
    ))


@app.get("/leaderboard_entries")
def centered(api_name: str, user_id: int, limit: int = PAGE) -> dict[str, Any]:
    with Session(engine) as session:
        board = session.scalars(select(Board).where(Board.api_name == api_name)).one_or_none()
        if board is None:
            raise HTTPException(404, "no such leaderboard")
        me = session.scalars(select(EntryRow).where(EntryRow.board_id == board.id,
                                                    EntryRow.user_id == user_id)).one_or_none()
        if me is None:
            return {"data": []}
        rank = 1 + session.scalar(select(func.count()).select_from(EntryRow).where(above(board.id, me)))
        first = max(rank - (limit - 1) // 2, 1)
        rows = session.scalars(
            select(EntryRow).where(EntryRow.board_id == board.id)
            .order_by(EntryRow.score.desc(), EntryRow.written_us, EntryRow.id)
            .offset(first - 1).limit(limit)
        ).all()
        return {"data": [{"rank": first + n, "score": str(r.score), "user": {"id": str(r.user_id)}}
                         for n, r in enumerate(rows)]}


def load(entries: int, api_name: str, user_base: int, seed: int) -> None:
    """Create the tables and fill one board like bench/load.py's (scores in [0, n/4), random write times)."""
    import random
    import time

    Base.metadata.create_all(engine)
    rng = random.Random(seed)
    now_us = int(time.time() * 1_000_000)
    month_us = 30 * 86_400 * 1_000_000
    with Session(engine) as session:
        session.add(Board(id=1, api_name=api_name))
        session.commit()
    # COPY through the driver: the ORM's row-by-row inserts would take longer than the measurement.
    raw = engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy("COPY naive_entries (id, board_id, user_id, score, written_us) FROM STDIN") as copy:
            for n in range(entries):
                copy.write_row((n + 1, 1, user_base + n, rng.randrange(entries // 4 or 1),
                                now_us - rng.randrange(month_us)))
        raw.commit()
        cursor.execute("ANALYZE naive_entries")
        raw.commit()
    finally:
        raw.close()


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 6 or sys.argv[1] != "load":
        raise SystemExit("usage: naive_peer.py load ENTRIES API_NAME USER_BASE SEED")
    load(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
