-- PostgreSQL version of migrations/sqlite/0007_index_pending_ids_grow.sql. An identity column never
-- reuses a value already: only the table's comment records the rule.
COMMENT ON TABLE index_pending IS 'ids only grow: a shared rank index orders the updates of an entry by them (D22)';
