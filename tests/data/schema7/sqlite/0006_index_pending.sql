-- Schema 6: rank index updates not yet known to have reached a shared rank index (issue 6, D22).
-- A leaderboard write records a row here in the SAME transaction as the entry write, and deletes it once
-- the index update succeeded; a row that outlives its writer (kill -9 between the commit and the index
-- update) is repaired at start-up or by any live process (ranking/keeper.py). entry_id NULL: the whole
-- board (remove all entries, delete the board, a sort order change). No foreign keys: the row must
-- outlive the board or entry it names (a deleted entry is removed from the index by the repair).
-- Only a shared (Redis) index uses it: the in-memory index is rebuilt from the database at every start.

CREATE TABLE index_pending (
    id             INTEGER PRIMARY KEY,
    leaderboard_id INTEGER NOT NULL,
    entry_id       INTEGER
);
