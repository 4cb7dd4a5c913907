"""The one schema declaration (server/db/schema.py) and its one Alembic tree (server/db/migrations) on
both backends: a database the first releases' SQL scripts made (schema 7, kept in tests/data/schema7/)
upgrades in place with every row, a new database gets exactly the declaration, the revisions make exactly
the declaration, both dialects get the same schema, and states it cannot migrate from are refused."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Connection

from questgraph.server.db import Database, WholeState, migrate, open_database
from questgraph.server.db.schema import METADATA, identity_columns, table_order
from tests import conftest as harness  # not start_server itself: only tests naming `backend` run on both
from tests.conftest import APP_TOKEN, postgres_database, require_postgres

SCHEMA7 = Path(__file__).parent / "data" / "schema7"
BOARD = -1  # stands for best_leaderboard's id, which the world's server chooses
APP, ORG, PERSON, USER = 1234757621998335, 1000000000000001, 1, 123402235207175
ENTRY, LINK, ITEM, DEFINITION = 9000000000000001, 9300000000000001, 9200000000000001, 9100000000000001

# A row for every table tests/world.toml leaves empty (the world's own rows fill the others), each
# referring to the world's org, app, person, app user and leaderboard (BOARD). Bytes are hex, as in a snapshot.
EXTRA_ROWS: dict[str, list[dict[str, Any]]] = {
    "settings": [{"key": "schema-test", "value": "kept"}],
    "entries": [{"id": ENTRY, "leaderboard_id": BOARD, "user_id": USER, "score": 4242,
                 "extra_data": "00ff10", "written_us": 1_796_589_673_000_000}],
    "index_pending": [{"id": 7, "leaderboard_id": BOARD, "entry_id": ENTRY}],
    "achievement_definitions": [{
        "id": DEFINITION, "app_id": APP, "api_name": "schema_ach", "achievement_type": "SIMPLE",
        "write_policy": "CLIENT_AUTHORITATIVE", "target": 1, "bitfield_length": 0, "is_archived": 0,
        "is_secret": 0, "title": "T", "description": "D", "unlocked_description_override": None,
        "title_locale_map": None, "description_locale_map": None, "unlocked_image": "icon-1",
        "locked_image": None, "created_us": 1}],
    "achievement_progress": [{"id": DEFINITION + 1, "definition_id": DEFINITION, "user_id": USER, "count": 1,
                              "bits": "", "unlocked": 1, "unlock_time": 5, "created_us": 2}],
    "media_files": [{"key": "icon-1", "app_id": APP, "content_type": "image/png", "data": "89504e470d0a1a0a",
                     "created_at": 3}],
    "user_nonces": [{"nonce_hash": "ab" * 32, "user_id": USER, "app_id": APP, "created_at": 1, "expires_at": 2,
                     "used": 0}],
    "iap_items": [{"id": ITEM, "app_id": APP, "sku": "schema_sku", "item_type": "DURABLE", "name": "N",
                   "description": "D", "price_hundredths": 199, "currency": "USD", "offer_id": 1,
                   "subscription_term": None, "trial_type": None, "trial_term": None, "trial_max_term_count": None,
                   "trial_price_hundredths": None, "trial_offer_id": None, "created_at": 1}],
    "purchases": [{"id": ITEM + 1, "app_id": APP, "user_id": USER, "item_id": ITEM, "granted_at": 1,
                   "expires_at": None, "consumed_at": None, "refunded_at": None, "refund_reason": None}],
    "subscriptions": [{"id": ITEM + 2, "app_id": APP, "user_id": USER, "item_id": ITEM, "started_at": 1,
                       "period_start0": 1, "anchor": 1, "renewals": 0, "trial_at_zero": 0, "auto_renew": 1,
                       "cancelled_at": None, "cancel_reason": None, "extension_days": 0}],
    "sso_passwords": [{"person_id": PERSON, "password_hash": "scrypt$test", "updated_at": 1}],
    "sso_login_failures": [{"subject": "ada", "at": 1}],
    "sso_sessions": [{"session_hash": "cd" * 32, "person_id": PERSON, "created_at": 1, "expires_at": 2}],
    "sso_links": [{"id": LINK, "org_id": ORG, "org_scoped_id": 1, "person_id": PERSON, "app_id": APP,
                   "created_at": 1, "refreshed_at": None, "revoked_at": None, "revoked_why": None}],
    "sso_codes": [{"code_hash": "ef" * 32, "org_id": ORG, "org_scoped_id": 1, "person_id": PERSON,
                   "redirect_uri": "https://studio.example/auth/callback", "created_at": 1, "expires_at": 2,
                   "used_at": None, "link_id": LINK}],
    "sso_tokens": [{"token_hash": "01" * 32, "link_id": LINK, "created_at": 1, "expires_at": 2}],
    "sso_refresh_codes": [{"code_hash": "02" * 32, "link_id": LINK, "created_at": 1, "used_at": None}],
    "dashboard_members": [{"id": 5, "org_id": ORG, "email": "a@example.com", "name": "A", "role": "admin",
                           "password_hash": None, "created_at": 1}],
    "dashboard_sessions": [{"session_hash": "03" * 32, "org_id": ORG, "member_id": 5, "actor": "a@example.com",
                            "role": "admin", "created_at": 1, "expires_at": 2}],
    "dashboard_audit": [{"id": 6, "at": 1, "org_id": ORG, "actor": "x", "action": "y", "target": "z",
                         "detail": "{}"}],
    "notif_requests": [{"id": 9400000000000001, "app_id": APP, "category": "EVENTS", "name": "N", "created_at": 1}],
    "sent_notifications": [{"id": 8, "app_id": APP, "request_id": 9400000000000001,
                            "recipient_ids": f'["{USER}"]', "sender_id": None, "sent_at": 1}],
    "fault_rules": [{"id": 9, "spec": '{"kind":"drop","probability":1.0}', "remaining": None, "hits": 0,
                     "created_at": 1}],
    "federated_users": [{"user_id": USER, "app_id": APP, "persistent_id": "schema-fed", "display_name": "Fed",
                         "name_number": 1, "created_at": 1}],
    # platform integrity (0004_integrity)
    "attestation_keys": [{"app_id": APP, "secret": "04" * 32}],
    "integrity_devices": [{"unique_id": "schema-device-1", "app_id": APP, "created_at": 1}],
    "device_bans": [{"id": 8, "ban_id": "U2NoZW1hQmFu", "app_id": APP, "unique_id": "schema-device-1",
                     "created_at": 1, "expires_at": 2}],
    # challenges (0005_challenges)
    "challenges": [{"id": 9500000000000001, "app_id": APP, "leaderboard_id": BOARD, "title": "T", "description": None,
                    "visibility": "PUBLIC", "creation_type": "DEVELOPER_CREATED", "start_date": 1, "end_date": 2,
                    "created_at": 1}],
    "challenge_entries": [{"id": 9500000000000002, "challenge_id": 9500000000000001, "user_id": USER, "score": 7,
                           "extra_data": "00", "written_us": 1}],
}
BYTES = {("entries", "extra_data"), ("media_files", "data"), ("attestation_keys", "secret"),
         ("challenge_entries", "extra_data")}


# --- databases ---------------------------------------------------------------------------------------------
def database(tmp_path: Path, backend: str, name: str) -> str:
    """A new, empty database of the backend: a SQLite file, or a PostgreSQL schema of its own."""
    path = str(tmp_path / f"{name}.sqlite3")
    return postgres_database(path) if backend == "postgres" else path


def scripts(backend: str, up_to: int = 7) -> list[tuple[int, str]]:
    folder = SCHEMA7 / backend
    found = [(int(p.name.split("_", 1)[0]), p.read_text(encoding="utf-8")) for p in folder.glob("*.sql")]
    return sorted(s for s in found if s[0] <= up_to)


@contextlib.contextmanager
def driver(db: str) -> Iterator[Any]:
    """A driver connection in autocommit mode (sqlite3 or psycopg)."""
    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db, autocommit=True) as conn:
            yield conn
    else:
        conn = sqlite3.connect(db, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()


def make_legacy(db: str, up_to: int = 7) -> None:
    """The database the first releases made, by their own migration runner: scripts 1..up_to, recorded in
    schema_migrations."""
    postgres = db.startswith("postgresql://")
    with driver(db) as conn:
        conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
        for version, script in scripts("postgres" if postgres else "sqlite", up_to):
            if postgres:
                with conn.transaction():
                    conn.execute(script)
                    conn.execute("INSERT INTO schema_migrations VALUES (%s, now()::text)", (version,))
            else:
                conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nINSERT INTO schema_migrations VALUES "
                                   f"({version}, datetime('now'));\nCOMMIT;")


def insert_rows(db: str, tables: dict[str, list[dict[str, Any]]]) -> None:
    postgres = db.startswith("postgresql://")
    mark = "%s" if postgres else "?"
    with driver(db) as conn:
        for table in table_order():
            for row in tables.get(table, []):
                values = [bytes.fromhex(v) if (table, k) in BYTES else v for k, v in row.items()]
                conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(mark for _ in row)})",
                             values)
        if postgres:  # as in a database the server wrote: identity sequences past the ids written
            for table, column in identity_columns():
                if not tables.get(table):
                    continue  # nothing written (the table may even be one a later revision adds)
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                             f"COALESCE(MAX({column}), 0) + 1, false) FROM {table}")


def dump(db: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of questgraph's state, read with plain SQL, each table's rows in one order."""
    postgres = db.startswith("postgresql://")
    with driver(db) as conn:
        if postgres:
            names = [r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables "
                                                "WHERE table_schema = current_schema()")]
        else:
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        tables: dict[str, list[tuple[Any, ...]]] = {}
        for name in sorted(set(names) - {"schema_migrations", "alembic_version", "sqlite_sequence"}):
            rows = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                    for r in conn.execute(f"SELECT * FROM {name}").fetchall()]
            tables[name] = sorted(rows, key=repr)
        return tables


@contextlib.contextmanager
def connect(db: str) -> Iterator[Connection]:
    """A SQLAlchemy connection to the database (its engine disposed after: no connection left open)."""
    url = db.replace("postgresql://", "postgresql+psycopg://", 1) if db.startswith("postgresql://") else \
        f"sqlite:///{db}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def opened(db: str) -> Database:
    """The database opened as the server opens it (which migrates it)."""
    return open_database(db, lanes=1)


def world_rows(tmp_path: Path, backend: str) -> dict[str, list[dict[str, Any]]]:
    """tests/world.toml's rows as a server writes them, with EXTRA_ROWS: at least one row in every table."""
    (tmp_path / "source").mkdir()
    source = harness.start_server(tmp_path / "source", backend=backend)
    try:
        tables = source.server.whole_state.export_tables()
    finally:
        source.stop()
    board = next(b["id"] for b in tables["leaderboards"] if (b["app_id"], b["api_name"]) == (APP, "best_leaderboard"))
    for table, rows in EXTRA_ROWS.items():
        tables[table] = tables[table] + [{k: board if k == "leaderboard_id" and v == BOARD else v
                                          for k, v in row.items()} for row in rows]
    assert set(tables) == set(table_order()) and all(tables.values())
    return tables


def unordered(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    """A snapshot's tables with each table's rows in one order (an export lists them in key order)."""
    return {table: sorted(repr(sorted(row.items())) for row in rows) for table, rows in tables.items()}


# --- upgrading a schema-7 database -------------------------------------------------------------------------
def test_a_schema7_database_upgrades_in_place_with_every_row(tmp_path: Path, backend: str) -> None:
    db = database(tmp_path, backend, "legacy")
    make_legacy(db)
    legacy = set(dump(db))  # the tables of schema 7; later revisions add empty ones
    rows = {t: r if t in legacy else [] for t, r in world_rows(tmp_path, backend).items()}
    insert_rows(db, rows)
    before = dump(db)
    assert all(before[t] for t in table_order() if t in legacy)  # data in every table, blobs included

    opened_db = opened(db)
    try:
        assert unordered(WholeState(opened_db).export_tables()) == unordered(rows)
    finally:
        opened_db.close()
    assert {t: r for t, r in dump(db).items() if t in legacy} == before
    with driver(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(migrate.HEAD,)]
        with pytest.raises(Exception, match="schema_migrations"):  # dropped: an old release now fails loudly
            conn.execute("SELECT * FROM schema_migrations")

    # A server starts on it (the world is not applied: the database holds state) and serves its rows.
    server = harness.start_server(tmp_path, backend=backend, database=db)
    try:
        with server.client() as client:
            response = client.get("/leaderboard_entries", headers={"Authorization": f"Bearer {APP_TOKEN}"},
                                  params={"api_name": "best_leaderboard", "fields": "id,score,extra_data_base64"})
        assert response.status_code == 200, response.text
        assert {"id": str(ENTRY), "score": 4242, "extra_data_base64": "AP8Q"} in response.json()["data"]
        with server.admin() as admin:
            assert unordered(admin.get("/_admin/snapshot").json()["tables"]) == unordered(rows)
    finally:
        server.stop()
    # Opened again: already at the head revision, nothing to do.
    opened(db).close()
    assert {t: r for t, r in dump(db).items() if t in legacy} == before


def test_a_schema7_memory_database_upgrades_on_its_own_connection() -> None:
    """SQLite ``:memory:`` exists only on its connection: the upgrade (Alembic included) runs on it."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for _, script in scripts("sqlite"):
        conn.executescript(script)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    conn.executemany("INSERT INTO schema_migrations VALUES (?, NULL)", [(v,) for v, _ in scripts("sqlite")])
    conn.execute("INSERT INTO settings VALUES ('k', 'v')")
    migrate.upgrade_sqlite(conn)
    assert conn.execute("SELECT * FROM settings").fetchall() == [("k", "v")]
    assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(migrate.HEAD,)]
    assert not conn.in_transaction
    conn.close()


@pytest.mark.parametrize("state", ["schema 5", "unknown tables", "newer revision"])
def test_a_database_it_cannot_migrate_is_refused_and_left_alone(tmp_path: Path, backend: str, state: str) -> None:
    db = database(tmp_path, backend, state.replace(" ", "_"))
    if state == "schema 5":
        make_legacy(db, up_to=5)
        expected = "schema 5 of questgraph's first releases"
    elif state == "unknown tables":
        with driver(db) as conn:
            conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
        expected = r"tables questgraph did not record creating \(orders"
    else:
        opened(db).close()
        with driver(db) as conn:
            conn.execute("UPDATE alembic_version SET version_num = 'from_the_future'")
        expected = "revision 'from_the_future', which this questgraph does not know"
    before = dump(db)
    with pytest.raises(migrate.SchemaError, match=expected):
        opened(db)
    assert dump(db) == before


def test_processes_starting_together_on_a_new_database_create_it_once(tmp_path: Path, backend: str) -> None:
    """Four openers at once, on a new database, several times over (SQLite's switch to WAL answered
    "database is locked" to about one start in twenty, with no busy wait, before it was retried)."""
    for round_no in range(20 if backend == "sqlite" else 1):
        db = database(tmp_path, backend, f"together{round_no}")
        failures: list[BaseException] = []

        def start(db: str = db, failures: list[BaseException] = failures) -> None:
            try:
                opened(db).close()
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=start) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == [], round_no
        with driver(db) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(migrate.HEAD,)]


# --- the schema: the declaration, the revisions and schema 7 agree ------------------------------------------
def shape(db: str, *, portable: bool = False) -> dict[str, Any]:
    """The schema as read back from the database. ``portable``: without what the dialects name or spell
    differently (types, constraint names, CHECK text, identity): see test_both_dialects_have_one_schema."""
    with connect(db) as conn:
        found = inspect(conn)
        tables: dict[str, Any] = {}
        for table in sorted(set(found.get_table_names()) - {"alembic_version", "schema_migrations"}):
            columns = [(c["name"], c["nullable"], c["default"] if c.get("identity") is None else "identity")
                       if portable else (c["name"], str(c["type"]), c["nullable"], c["default"],
                                         str(c.get("identity")), c.get("comment"))
                       for c in found.get_columns(table)]
            foreign = sorted((f["constrained_columns"], f["referred_table"], f["referred_columns"])
                             + (() if portable else (f["name"],)) for f in found.get_foreign_keys(table))
            uniques = sorted((u["column_names"], None if portable else u["name"])
                             for u in found.get_unique_constraints(table))
            indexes = sorted((i["name"], i["column_names"], i["unique"]) for i in found.get_indexes(table)
                             if not i.get("duplicates_constraint"))
            found_checks = found.get_check_constraints(table)
            checks: Any = len(found_checks) if portable else sorted((c["name"], c["sqltext"]) for c in found_checks)
            pk = found.get_pk_constraint(table)
            tables[table] = {"columns": columns, "pk": pk["constrained_columns"], "foreign": foreign,
                             "uniques": uniques, "indexes": indexes, "checks": checks,
                             "comment": None if portable or conn.dialect.name == "sqlite"
                             else found.get_table_comment(table)["text"]}
        return tables


def by_revisions(db: str) -> None:
    """Every revision of the tree, run on the empty database (what the start-up path skips for speed)."""
    by_revisions_to(db, "head")


def differences(db: str) -> list[Any]:
    with connect(db) as conn:
        context = MigrationContext.configure(conn, opts=migrate.comparison(conn.dialect.name))
        return list(compare_metadata(context, METADATA))


def pk_nullability(diffs: list[Any]) -> list[Any]:
    """Diffs other than schema 7's single-column SQLite keys declared without NOT NULL (db/columns.py)."""
    def documented(diff: Any) -> bool:
        if not isinstance(diff, list) or len(diff) != 1 or diff[0][0] != "modify_nullable":
            return False
        _, _, table, column, _, before, after = diff[0]
        return bool(before is True and after is False and METADATA.tables[table].c[column].primary_key
                    and len(METADATA.tables[table].primary_key.columns) == 1)
    return [d for d in diffs if not documented(d)]


def test_the_revisions_and_the_start_up_path_make_exactly_the_declaration(tmp_path: Path, backend: str) -> None:
    fresh, revised = database(tmp_path, backend, "fresh"), database(tmp_path, backend, "revised")
    opened(fresh).close()  # the start-up path: the declaration created and stamped
    by_revisions(revised)
    assert differences(fresh) == []
    assert differences(revised) == []
    assert shape(revised) == shape(fresh)  # CHECKs and comments too, which autogenerate does not compare


def test_an_upgraded_schema7_database_has_the_declared_schema(tmp_path: Path, backend: str) -> None:
    legacy, fresh = database(tmp_path, backend, "legacy"), database(tmp_path, backend, "fresh")
    make_legacy(legacy)
    schema7 = set(dump(legacy))  # the tables later revisions add are created with NOT NULL keys
    opened(legacy).close()
    opened(fresh).close()
    if backend == "postgres":
        assert differences(legacy) == []
        assert shape(legacy) == shape(fresh)  # constraint names (PostgreSQL's defaults) included
        return
    assert pk_nullability(differences(legacy)) == []
    fresh_shape, legacy_shape = shape(fresh), shape(legacy)
    for name, table in fresh_shape.items():  # the one documented difference: schema 7's nullable SQLite keys
        if len(table["pk"]) == 1 and name in schema7:
            table["columns"] = [(c[0], c[1], True, *c[3:]) if c[0] in table["pk"] else c for c in table["columns"]]
    assert legacy_shape == fresh_shape


def test_both_dialects_have_one_schema(tmp_path: Path) -> None:
    """Tables, columns (order, nullability, defaults), keys, foreign keys, uniques and indexes with their
    columns are the same on SQLite and PostgreSQL. Documented differences, left out of the comparison:
    the types (INTEGER / BIGINT, TEXT / TEXT COLLATE "C", BLOB / BYTEA), constraint names (SQLite keeps
    none), CHECK text (each database reprints it: only their number is compared), identity columns
    (PostgreSQL's; SQLite assigns a rowid) and table comments (SQLite has none)."""
    require_postgres()
    sqlite_db, postgres_db = str(tmp_path / "one.sqlite3"), database(tmp_path, "postgres", "one")
    opened(sqlite_db).close()
    opened(postgres_db).close()
    sqlite_shape = shape(sqlite_db, portable=True)
    for table, spec in sqlite_shape.items():  # SQLite has no identity columns: its rowid is the generated key
        identity = {c.name for c in METADATA.tables[table].columns if c.identity is not None}
        spec["columns"] = [(c[0], c[1], "identity") if c[0] in identity else c for c in spec["columns"]]
    assert shape(postgres_db, portable=True) == sqlite_shape
    assert set(sqlite_shape) == set(table_order())


def test_head_is_the_tree_head_and_table_order_follows_the_foreign_keys() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert script.get_heads() == [migrate.HEAD]
    assert migrate.BASELINE in migrate.revisions()
    order = table_order()
    for table in METADATA.tables.values():
        for fk in table.foreign_keys:
            assert order.index(fk.column.table.name) < order.index(table.name), (table.name, fk)


# --- a later revision ---------------------------------------------------------------------------------------
LATER = '''"""A later revision, for the test only."""
import sqlalchemy as sa
from alembic import op

revision = "0099_later"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Recreates settings on SQLite (a column's nullability cannot be altered there): rows must survive.
    with op.batch_alter_table("settings") as batch:
        batch.alter_column("value", existing_type=sa.Text(), nullable=True)
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError
'''


@pytest.fixture
def later_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The tree with one more revision after schema 7, as the next release would ship it."""
    tree = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, tree, ignore=shutil.ignore_patterns("__pycache__"))
    (tree / "versions" / "0099_later.py").write_text(LATER.replace("{head}", migrate.HEAD), encoding="utf-8")
    monkeypatch.setattr(migrate, "MIGRATIONS", tree)
    monkeypatch.setattr(migrate, "HEAD", "0099_later")
    migrate.revisions.cache_clear()
    migrate.create_statements.cache_clear()
    yield
    migrate.revisions.cache_clear()
    migrate.create_statements.cache_clear()


@pytest.mark.parametrize("start", ["schema 7", "baseline revision"])
def test_later_revisions_run_on_an_older_database_keeping_its_rows(tmp_path: Path, backend: str, start: str,
                                                                    later_tree: None) -> None:
    db = database(tmp_path, backend, "older")
    if start == "schema 7":
        make_legacy(db)
    else:  # made by this release: at the baseline revision
        by_revisions_to(db, migrate.BASELINE)
    insert_rows(db, {"settings": [{"key": "a", "value": "kept"}], "media_files": []})
    opened(db).close()
    with driver(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0099_later",)]
        assert conn.execute("SELECT key, value, note FROM settings").fetchall() == [("a", "kept", None)]
        conn.execute("INSERT INTO settings (key) VALUES ('b')")  # value may now be NULL


def by_revisions_to(db: str, revision: str) -> None:
    with connect(db) as conn, conn.begin():
        command.upgrade(migrate.alembic_config(conn), revision)
