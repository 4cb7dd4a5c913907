-- Schema 7: index_pending ids never come back (AUTOINCREMENT). A shared rank index orders the updates of
-- one entry by the ids of their pending rows (D22, ranking/redis_index.py), so an id must be larger than
-- every id before it, even after those rows were deleted; a plain INTEGER PRIMARY KEY reuses the largest.
CREATE TABLE index_pending_v7 (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    leaderboard_id INTEGER NOT NULL,
    entry_id       INTEGER
);
INSERT INTO index_pending_v7 (id, leaderboard_id, entry_id) SELECT id, leaderboard_id, entry_id FROM index_pending;
DROP TABLE index_pending;
ALTER TABLE index_pending_v7 RENAME TO index_pending;
