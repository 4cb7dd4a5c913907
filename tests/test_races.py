"""Every single-use or read-then-write rule, raced for real.

In-process tests run on one lane (SQLite and the in-memory index serialise every call), so they cannot
catch a race. Here two ``questgraph serve`` processes share one PostgreSQL schema and one Redis rank index,
each with ``--domain-lanes 4`` (several trips at once inside a process, each on its own connection), and
threads released by one barrier send the same request through both processes at once. Each test asserts
the exact outcome counts and the final state in the database.

Decisions under test: D8 (a nonce validates once), D15 (keep-best: the final score is the best of all,
did_update only for a write that was strictly better), D24 (add_count sums, add_bits ORs, exactly one
just_unlocked), D28 (a consumable is consumed once), D32 (a code is exchanged once), D34 (a refresh code
is used once).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest

from tests.commerce_support import create_item, grant
from tests.conftest import (
    ADA_ID,
    ADMIN_KEY,
    APP_ID,
    APP_TOKEN,
    GRACE_ID,
    LINUS_ID,
    assert_graph_error,
    free_port,
    postgres_database,
    require_postgres,
)
from tests.redis_support import drop_prefix, redis_url, require_redis
from tests.sso_support import CODE, OAUTH_TOKEN, Linked, exchange, link, refresh
from tests.test_crash import ServerProcess

LANES = 4
RACERS = 24  # threads per race, alternating between the two processes
# Races per test: one race may happen not to interleave (a broken rule is caught only when it does), so
# each rule is raced several times; the processes' start-up, not the races, is what takes the time.
ROUNDS = 6
APP_AUTH = {"Authorization": f"Bearer {APP_TOKEN}"}
Send = Callable[[httpx.Client], httpx.Response]


@dataclass
class Deployment:
    """Two server processes of one deployment: one database, one Redis index."""

    processes: list[ServerProcess]
    database: str

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database) as conn:
            return conn.execute(statement, params).fetchall()

    def admin(self, n: int = 0) -> httpx.Client:
        return httpx.Client(base_url=self.processes[n].url, headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                            timeout=30)

    def client(self, n: int = 0) -> httpx.Client:
        return httpx.Client(base_url=self.processes[n].url, timeout=30)

    def race(self, sends: list[Send]) -> list[httpx.Response]:
        """Each send on its own thread and client (alternating processes), all released at once."""
        clients = [httpx.Client(base_url=self.processes[n % 2].url, timeout=60) for n in range(len(sends))]
        barrier = threading.Barrier(len(sends))
        answers: list[httpx.Response | BaseException | None] = [None] * len(sends)

        def go(n: int) -> None:
            try:
                clients[n].get("/_health/live")  # the connection is open before the barrier
                barrier.wait(timeout=30)
                answers[n] = sends[n](clients[n])
            except BaseException as exc:  # reported below, in the test's thread
                answers[n] = exc

        threads = [threading.Thread(target=go, args=(n,)) for n in range(len(sends))]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        finally:
            for client in clients:
                client.close()
        responses = []
        for answer in answers:
            assert isinstance(answer, httpx.Response), repr(answer)
            responses.append(answer)
        return responses


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One deployment for the module (starting two processes is what takes the time): each test uses
    names of its own and asserts changes, not totals."""
    require_postgres()
    require_redis()
    tmp_path = tmp_path_factory.mktemp("races")
    prefix = f"qgrace-{secrets.token_hex(6)}"
    database = postgres_database(str(tmp_path / "race"))
    extra = ["--rank-index", redis_url(prefix=prefix), "--domain-lanes", str(LANES)]
    # The first process applies the world to the empty database; the second starts once it is there.
    processes = [ServerProcess(database, free_port(), tmp_path / "p0.log", extra)]
    try:
        processes[0].wait_ready()
        processes.append(ServerProcess(database, free_port(), tmp_path / "p1.log", extra))
        processes[1].wait_ready()
        yield Deployment(processes, database)
    finally:
        for process in processes:
            process.kill()
        drop_prefix(prefix)
    for process in processes:  # no race may end in an internal error
        assert "internal error" not in process.log.read_text(), process.log.read_text()


def all_ok(responses: list[httpx.Response]) -> list[dict[str, Any]]:
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200][:3]
    return [dict(r.json()) for r in responses]


# --- users: a nonce is single use (D8) ----------------------------------------------------------------
def test_a_nonce_validates_once(deployment: Deployment) -> None:
    with deployment.admin() as admin:
        nonces = [admin.post(f"/_admin/users/{ADA_ID}/nonces").json()["nonce"] for _ in range(ROUNDS)]
    for nonce in nonces:
        def validate(client: httpx.Client, nonce: str = nonce) -> httpx.Response:
            return client.post("/user_nonce_validate", headers=APP_AUTH, data={"nonce": nonce, "user_id": ADA_ID})

        bodies = all_ok(deployment.race([validate] * RACERS))
        assert sorted(b["is_valid"] for b in bodies) == [False] * (RACERS - 1) + [True]
    assert deployment.sql("SELECT COUNT(*), SUM(used) FROM user_nonces") == [(ROUNDS, ROUNDS)]


# --- achievements: counts add up, bits OR, one unlock (D24) -------------------------------------------
def _define(deployment: Deployment, api_name: str, kind: str, **extra: str) -> None:
    with deployment.client() as client:
        response = client.post(f"/{APP_ID}/achievement_definitions", headers=APP_AUTH, data={
            "api_name": api_name, "achievement_type": kind, "achievement_write_policy": "SERVER_AUTHORITATIVE",
            "title": api_name, "description": "raced", **extra})
        assert response.status_code == 200, response.text


def _write(api_name: str, **params: str) -> Send:
    return lambda client: client.post(f"/{ADA_ID}/achievements", headers=APP_AUTH,
                                      data={"api_name": api_name, **params})


def _progress(deployment: Deployment, api_name: str) -> list[tuple[Any, ...]]:
    return deployment.sql("SELECT p.count, p.bits, p.unlocked FROM achievement_progress p JOIN "
                          "achievement_definitions d ON d.id = p.definition_id WHERE d.api_name = %s "
                          "AND p.user_id = %s", api_name, int(ADA_ID))


def test_force_unlock_unlocks_once(deployment: Deployment) -> None:
    """On a user without progress (the racers' inserts collide) and on locked progress (compare-and-set)."""
    for n in range(ROUNDS):
        name = f"RACE_UNLOCK_{n}"
        fresh = n % 2 == 0
        _define(deployment, name, "SIMPLE" if fresh else "COUNT", **({} if fresh else {"target": "1000"}))
        if not fresh:
            with deployment.client(1) as client:
                assert _write(name, add_count="7")(client).json()["just_unlocked"] is False
        bodies = all_ok(deployment.race([_write(name, force_unlock="true")] * RACERS))
        assert sorted(b["just_unlocked"] for b in bodies) == [False] * (RACERS - 1) + [True]
        assert {(b["id"], b["api_name"]) for b in bodies} == {(ADA_ID, name)}
        # One row, unlocked; a forced unlock leaves the count as it was (D23).
        assert [(row[0], row[2]) for row in _progress(deployment, name)] == [(0 if fresh else 7, 1)]


def test_add_count_sums_every_add_and_unlocks_once(deployment: Deployment) -> None:
    adds = [1 + n % 3 for n in range(RACERS)]  # 1, 2, 3, …: 48 in all, crossing the target of 40
    for n in range(ROUNDS):
        name = f"RACE_COUNT_{n}"
        _define(deployment, name, "COUNT", target="40")
        bodies = all_ok(deployment.race([_write(name, add_count=str(a)) for a in adds]))
        assert sum(b["just_unlocked"] for b in bodies) == 1
        assert [(row[0], row[2]) for row in _progress(deployment, name)] == [(sum(adds), 1)]


def test_add_bits_ors_every_write_and_unlocks_once(deployment: Deployment) -> None:
    for n in range(ROUNDS):
        name = f"RACE_BITS_{n}"
        _define(deployment, name, "BITFIELD", bitfield_length=str(RACERS), target=str(RACERS))
        # Racer k sets bit k only (sent as add_fields, the SDK's name): every bit survives only if no
        # write is lost, and only the write that completes the field unlocks it.
        bodies = all_ok(deployment.race([_write(name, add_fields="0" * k + "1") for k in range(RACERS)]))
        assert sum(b["just_unlocked"] for b in bodies) == 1
        assert [(row[1], row[2]) for row in _progress(deployment, name)] == [("1" * RACERS, 1)]


# --- commerce: a consumable is consumed once (D28) ----------------------------------------------------
def test_a_consumable_is_consumed_once(deployment: Deployment) -> None:
    with deployment.admin() as admin:
        create_item(admin, sku="race_gems", type="CONSUMABLE", name="Gems", price="99")
    for round_ in range(ROUNDS):
        with deployment.admin(round_ % 2) as admin:
            grant(admin, ADA_ID, "race_gems")

        def consume(client: httpx.Client) -> httpx.Response:
            return client.post(f"/{APP_ID}/consume_entitlement", headers=APP_AUTH,
                               data={"user_id": ADA_ID, "sku": "race_gems"})

        bodies = all_ok(deployment.race([consume] * RACERS))
        assert sorted(b["success"] for b in bodies) == [False] * (RACERS - 1) + [True]
        assert [b for b in bodies if not b["success"]] == [{"success": False}] * (RACERS - 1)
        assert deployment.sql("SELECT COUNT(*), COUNT(consumed_at) FROM purchases") == [(round_ + 1, round_ + 1)]


# --- account linking: codes and refresh codes are single use (D32, D34) -------------------------------
def _one_winner(responses: list[httpx.Response], what: str, *refusals: str) -> dict[str, str]:
    """Exactly one answer is a grant (returned); every other says ``what`` was used already (or one of
    the other ``refusals``)."""
    won = [r for r in responses if r.status_code == 200]
    assert len(won) == 1, [r.text for r in responses]
    for lost in responses:
        if lost is not won[0]:
            assert lost.status_code == 400, lost.text
            message = lost.json()["error"]["message"]
            assert any(r in message for r in (f"Param {what} has already been used", *refusals)), message
    grant: dict[str, str] = won[0].json()
    assert set(grant) == {"oauth_token", "refresh_code"}, grant
    assert OAUTH_TOKEN.fullmatch(grant["oauth_token"]) and CODE.fullmatch(grant["refresh_code"]), grant
    return grant


def _me(deployment: Deployment, token: str) -> httpx.Response:
    with deployment.client(1) as client:
        return client.get("/me", headers={"Authorization": f"Bearer {token}"})


def _sso_rows(deployment: Deployment) -> tuple[int, int, int, int, int]:
    """Links, revoked links, tokens, refresh codes, spent refresh codes."""
    [(links, revoked)] = deployment.sql("SELECT COUNT(*), COUNT(revoked_at) FROM sso_links")
    [(tokens,)] = deployment.sql("SELECT COUNT(*) FROM sso_tokens")
    [(codes, spent)] = deployment.sql("SELECT COUNT(*), COUNT(used_at) FROM sso_refresh_codes")
    return links, revoked, tokens, codes, spent


def _added(before: tuple[int, ...], after: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(b - a for a, b in zip(before, after, strict=True))


def test_an_sso_code_is_exchanged_once(deployment: Deployment) -> None:
    for _ in range(ROUNDS):
        before = _sso_rows(deployment)
        with deployment.client() as browser:
            linked = link(browser)

        def exchange_it(client: httpx.Client, linked: Linked = linked) -> httpx.Response:
            return exchange(client, APP_TOKEN, linked.code, linked.org_scoped_id)

        grant = _one_winner(deployment.race([exchange_it] * RACERS), "code")
        # One link, made by the one winner, with one token and one refresh code; the losers saw the code
        # used twice, so the link is revoked (D32).
        assert _added(before, _sso_rows(deployment)) == (1, 1, 1, 1, 0)
        assert_graph_error(_me(deployment, grant["oauth_token"]), 401, 190)  # revoked


def test_a_refresh_code_is_used_once(deployment: Deployment) -> None:
    for _ in range(ROUNDS):
        before = _sso_rows(deployment)
        with deployment.client() as browser:
            linked = link(browser)
            first = exchange(browser, APP_TOKEN, linked.code, linked.org_scoped_id)
        assert first.status_code == 200, first.text

        def refresh_it(client: httpx.Client, linked: Linked = linked,
                       refresh_code: str = first.json()["refresh_code"]) -> httpx.Response:
            return refresh(client, APP_TOKEN, linked.org_scoped_id, refresh_code)

        # A loser that reads the link after another loser's reuse revoked it is told so (D34).
        _one_winner(deployment.race([refresh_it] * RACERS), "refresh_code",
                    "Param refresh_code belongs to a revoked account link")
        # The exchange's token and the winner's (no loser minted one); of the two refresh codes only the
        # winner's new one is unspent. (Whether the link ends revoked depends on when the losers looked.)
        links, _, tokens, codes, spent = _added(before, _sso_rows(deployment))
        assert (links, tokens, codes, spent) == (1, 2, 2, 1)


# --- leaderboards: keep-best (D15) --------------------------------------------------------------------
def _submit(user_id: str, score: int) -> Send:
    return lambda client: client.post("/leaderboard_submit_entry", headers=APP_AUTH,
                                      data={"api_name": "best_leaderboard", "score": str(score), "user_id": user_id})


def _entries(deployment: Deployment, user_id: str) -> list[tuple[Any, ...]]:
    return deployment.sql("SELECT e.score FROM entries e JOIN leaderboards b ON b.id = e.leaderboard_id "
                          "WHERE b.app_id = %s AND b.api_name = 'best_leaderboard' AND e.user_id = %s",
                          int(APP_ID), int(user_id))


def _ranked(deployment: Deployment, n: int, user_id: str) -> list[int]:
    """The user's score as process ``n``'s rank index shows it."""
    with deployment.client(n) as client:
        body = client.get("/leaderboard_entries", headers=APP_AUTH, params={
            "api_name": "best_leaderboard", "filter": "USER_IDS", "user_ids": f"[{user_id}]", "fields": "score"})
    assert body.status_code == 200, body.text
    return [row["score"] for row in body.json()["data"]]


def test_keep_best_equal_submits_update_once(deployment: Deployment) -> None:
    """The same score from every racer: exactly one writes (the first, on an empty board too); the others
    are not strictly better."""
    for score in range(500, 500 + 400 * ROUNDS, 400):  # the user's first submits, then better ones
        bodies = all_ok(deployment.race([_submit(GRACE_ID, score)] * RACERS))
        assert sorted(b["did_update"] for b in bodies) == [False] * (RACERS - 1) + [True]
        assert _entries(deployment, GRACE_ID) == [(score,)]
    leaked = deployment.sql("SELECT COUNT(*) FROM objects o LEFT JOIN entries e ON e.id = o.id "
                            "WHERE o.kind = 'entry' AND e.id IS NULL")
    assert leaked == [(0,)]  # the losing first inserts released their claimed ids (D9)
    assert _ranked(deployment, 0, GRACE_ID) == _ranked(deployment, 1, GRACE_ID) == [score]


def test_keep_best_final_score_is_the_best(deployment: Deployment) -> None:
    """Distinct scores around the stored one: the worse and the equal never update, the best always does,
    and the entry ends with the best; the ranks of both processes agree. (Any set of updates that holds the
    best and only scores above the stored one is what some order of the writes gives: nothing stronger can
    be asserted of a race.)"""
    stored = 1000
    with deployment.client() as client:
        assert client.post("/leaderboard_submit_entry", headers=APP_AUTH, data={
            "api_name": "best_leaderboard", "score": str(stored), "user_id": LINUS_ID}).json()["did_update"] is True
    for _ in range(ROUNDS):
        scores = [stored + (n - RACERS // 2) * 37 for n in range(RACERS)]  # half below, the stored one, half above
        bodies = all_ok(deployment.race([_submit(LINUS_ID, s) for s in scores]))
        updated = {s for s, b in zip(scores, bodies, strict=True) if b["did_update"]}
        assert max(scores) in updated
        assert all(s > stored for s in updated), updated
        stored = max(scores)
        assert _entries(deployment, LINUS_ID) == [(stored,)]
        assert _ranked(deployment, 0, LINUS_ID) == _ranked(deployment, 1, LINUS_ID) == [stored]
