"""Challenge behaviour, free of HTTP (graph-api.md A.1; fidelity: "Challenges").

A challenge is a window [start_date, end_date) on one leaderboard. While it runs, every accepted submit to
that board is also a submit to the challenge: the challenge keeps each user's best score of the window
(keep-best, as the board; ``force_update`` overwrites), in its own table, written in the same transaction
as the board's entry. The submit answer lists the challenges whose entry changed
(``updated_challenge_ids``). Challenges are deprecated and small: their ranks are made from all of a
challenge's entries in SQL order (O(n) per read), not by the rank index.

Invitations belong to the retired client SDK and Challenges app; no S2S call makes one. So every entitled
submitter takes part, whatever the visibility, and ``invited_users`` is always empty. Visibility matters
to user tokens: a PRIVATE challenge is found only by its participants (others get the unknown-object 404).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from questgraph.server.auth.access import require_app_token, require_path_app
from questgraph.server.auth.callers import Caller, UserCaller
from questgraph.server.challenges.records import Challenge
from questgraph.server.challenges.store import ChallengeStore
from questgraph.server.clock import Clock
from questgraph.server.db import Database, ObjectIds
from questgraph.server.errors import Forbidden, InvalidParameter, NotFound, NotRanked
from questgraph.server.graph.cursors import ENTRIES_PAGE
from questgraph.server.identity.records import User
from questgraph.server.identity.service import IdentityService
from questgraph.server.identity.store import IdentityStore
from questgraph.server.leaderboards.records import Entry, Leaderboard
from questgraph.server.leaderboards.service import (
    MAX_USER_IDS,
    EntriesPage,
    LeaderboardService,
    RankedEntry,
    _SortedKeys,
)
from questgraph.server.ranking.keys import HIGHER_IS_BETTER, sort_key

VISIBILITIES = ("PUBLIC", "INVITE_ONLY", "PRIVATE")
CREATION_TYPES = ("DEVELOPER_CREATED",)  # USER_CREATED challenges were made by players, in the SDK
START_AT = ("TOP", "VIEWER", "VIEWER_OR_TOP", "OFFSET")
START_AT_ALIASES = {"CENTERED_ON_VIEWER": "VIEWER", "CENTERED_ON_VIEWER_OR_TOP": "VIEWER_OR_TOP"}  # D20
FILTERS = ("NONE", "FRIENDS", "USER_IDS")
DEFAULT_LENGTH_S = 3 * 24 * 3600  # "end_date: defaults to three days later" (D-CH)
MAX_DATE = 253402300799  # 9999-12-31T23:59:59Z: the last instant an ISO date can write
MAX_TEXT = 1024
# How long this process trusts its list of the apps that have challenges (another process may add one).
APPS_TTL_S = 1.0


def parse_date(key: str, value: str) -> int:
    """Unix seconds, or ISO 8601 (``2020-07-14T22:58:24+0000``, ``…Z``, ``2020-07-14``): the docs say
    "date" on create, Unix integers on update and ISO in answers, so both are taken everywhere."""
    text = value.strip()
    if text.lstrip("-").isdigit() and len(text) <= 20:
        seconds = int(text)
    else:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidParameter(f"Param {key} must be a Unix time or an ISO 8601 date") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        seconds = int(parsed.timestamp())
    if not 0 <= seconds <= MAX_DATE:
        raise InvalidParameter(f"Param {key} must be between 0 and {MAX_DATE}")
    return seconds


def iso_date(seconds: int) -> str:
    """The answer's form: ``2020-07-14T22:58:24+0000`` (graph-api.md 0.5)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass(frozen=True)
class ChallengeSpec:
    """A challenge of a world file (docs/config.md, ``challenges = [ … ]`` of a board)."""

    where: str
    visibility: str
    title: str | None
    description: str | None
    start_date: int | None
    end_date: int | None


def world_challenge(table: dict[str, Any], where: str, error: type[Exception]) -> ChallengeSpec:
    """A world file's challenge table, checked; ``error`` is the world's error type."""
    def text(key: str) -> str | None:
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
            raise error(f"{where}: {key} must be a string of at most {MAX_TEXT} characters")
        return value

    def date(key: str) -> int | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, datetime):  # a TOML date-time
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise error(f"{where}: {key} must be Unix seconds or an ISO 8601 date")
        try:
            return parse_date(key, str(value))
        except InvalidParameter as exc:
            raise error(f"{where}: {exc.message.removeprefix('Param ')}") from None

    visibility = str(table.get("visibility", "PUBLIC")).strip().upper()
    if visibility not in VISIBILITIES:
        raise error(f"{where}: visibility must be one of {', '.join(VISIBILITIES)}")
    start, end = date("start_date"), date("end_date")
    if start is not None and end is not None and end <= start:
        raise error(f"{where}: end_date must be after start_date")
    return ChallengeSpec(where, visibility, text("title"), text("description"), start, end)


@dataclass(frozen=True)
class ChallengeEntriesQuery:
    filter: str = "NONE"
    user_ids: tuple[int, ...] = ()
    start_at: str = "TOP"
    offset: int = 0
    limit: int = ENTRIES_PAGE.default
    after: int | None = None
    before: int | None = None


class ChallengeService:
    def __init__(self, db: Database, store: ChallengeStore, leaderboards: LeaderboardService,
                 identity: IdentityService, identity_store: IdentityStore, ids: ObjectIds, clock: Clock) -> None:
        self.db = db
        self.store = store
        self.leaderboards = leaderboards
        self.identity = identity
        self.identity_store = identity_store
        self.ids = ids
        self.clock = clock
        self._apps: set[int] = set()
        self._apps_read = -APPS_TTL_S  # monotonic time of the last read of self._apps
        self._apps_lock = threading.Lock()

    # --- the submit hook (leaderboards/service.py submit_with_challenges) --------------------------
    def app_has_challenges(self, app_id: int) -> bool:
        """Whether the app may have a challenge: no query for most submits (read at most once a second)."""
        with self._apps_lock:
            if time.monotonic() - self._apps_read > APPS_TTL_S:
                self._apps = self.store.apps_with_challenges()
                self._apps_read = time.monotonic()
            return app_id in self._apps

    def _changed(self, app_id: int) -> None:
        with self._apps_lock:
            self._apps.add(app_id)

    def record_submit(self, app_id: int, api_name: str, user_id: int, score: int, extra_data: bytes,
                      force_update: bool) -> list[int]:
        """Call inside the submit's transaction, after the board accepted it: the ids of the running
        challenges of the board whose entry for the user changed (keep-best per challenge)."""
        changed = []
        now_us = self.clock.now_us()
        for challenge in self.store.running_on_board(app_id, api_name, now_us // 1_000_000):
            board = self.leaderboards.board_in_app(app_id, challenge.leaderboard_id)
            if board is None:
                continue
            claimed = self.identity.claim_id("challenge_entry")
            stored = self.store.submit_entry(Entry(claimed, challenge.id, user_id, score, extra_data, now_us),
                                             board.sort_order == HIGHER_IS_BETTER, force_update)
            if stored is None or stored.id != claimed:
                self.identity.release_id(claimed)  # the user already had an entry (kept, or replaced in place)
            if stored is not None:
                changed.append(challenge.id)
        return changed

    # --- challenges --------------------------------------------------------------------------------
    def create(self, caller: Caller, app_id: int, leaderboard_api_name: str, creation_type: str,
               visibility: str, title: str | None, description: str | None, start_date: int | None,
               end_date: int | None) -> tuple[Challenge, Leaderboard]:
        require_app_token(caller, "Creating a challenge")
        require_path_app(self.identity_store, caller, app_id)
        board = self.leaderboards.find_board(app_id, leaderboard_api_name)
        if board is None:
            raise NotFound(f"No leaderboard with api_name {leaderboard_api_name[:64]!r} exists for this app")
        start = self.clock.now() if start_date is None else start_date
        end = start + DEFAULT_LENGTH_S if end_date is None else end_date
        _check_window(start, end)
        with self.db.transaction():
            challenge = Challenge(self.identity.claim_id("challenge"), app_id, board.id, title, description,
                                  visibility, creation_type, start, end, self.clock.now())
            self.store.insert(challenge)
        self._changed(app_id)
        return challenge, board

    def create_from_spec(self, caller: Caller, api_name: str, spec: ChallengeSpec) -> Challenge:
        """A world file's challenge (world.py)."""
        return self.create(caller, caller.app.id, api_name, "DEVELOPER_CREATED", spec.visibility, spec.title,
                           spec.description, spec.start_date, spec.end_date)[0]

    def update(self, caller: Caller, challenge_id: int, *, visibility: str | None, title: str | None,
               description: str | None, start_date: int | None, end_date: int | None) -> Challenge:
        require_app_token(caller, "Updating a challenge")
        found = self.get(caller, challenge_id)
        challenge = replace(
            found,
            visibility=visibility or found.visibility,
            title=found.title if title is None else title,
            description=found.description if description is None else description,
            start_date=found.start_date if start_date is None else start_date,
            end_date=found.end_date if end_date is None else end_date,
        )
        _check_window(challenge.start_date, challenge.end_date)
        with self.db.transaction():
            self.store.update(challenge)
        return challenge

    def delete(self, caller: Caller, challenge_id: int) -> None:
        require_app_token(caller, "Deleting a challenge")
        self.store.delete(self.get(caller, challenge_id).id)

    def get(self, caller: Caller, challenge_id: int) -> Challenge:
        """The caller's app's challenge; another app's, or a PRIVATE one a user token does not take
        part in, is an unknown object (D9)."""
        challenge = self.store.get(challenge_id)
        if challenge is None or challenge.app_id != caller.app.id or not self._visible(caller, challenge):
            raise NotFound(
                f"Unsupported get request. Object with ID '{challenge_id}' does not exist, cannot be loaded "
                "due to missing permissions, or does not support this operation."
            )
        return challenge

    def in_app(self, app_id: int, challenge_id: int) -> Challenge | None:
        """The dashboard's and the admin API's lookup: the app's challenge, None for any other."""
        challenge = self.store.get(challenge_id)
        return challenge if challenge is not None and challenge.app_id == app_id else None

    def challenges(self, caller: Caller, app_id: int, leaderboard_api_name: str | None, *, active: bool,
                   past: bool, future: bool) -> list[Challenge]:
        require_path_app(self.identity_store, caller, app_id)
        board_id = None
        if leaderboard_api_name is not None:
            board = self.leaderboards.find_board(app_id, leaderboard_api_name)
            if board is None:
                raise NotFound(f"No leaderboard with api_name {leaderboard_api_name[:64]!r} exists for this app")
            board_id = board.id
        now = self.clock.now()
        return [c for c in self.store.list_for_app(app_id, board_id)
                if (active and c.running_at(now)) or (past and c.end_date <= now)
                or (future and c.start_date > now)
                if self._visible(caller, c)]

    # --- the admin API's and the dashboard's: any app's, no caller -----------------------------------
    def of_app(self, app_id: int) -> list[Challenge]:
        return self.store.list_for_app(app_id)

    def state(self, challenge: Challenge) -> str:
        now = self.clock.now()
        return "active" if challenge.running_at(now) else "past" if challenge.end_date <= now else "future"

    def delete_any(self, challenge_id: int) -> None:
        challenge = self.store.get(challenge_id)
        if challenge is None:
            raise NotFound(f"No challenge with id {challenge_id}")
        self.store.delete(challenge.id)

    def board_of(self, challenge: Challenge) -> Leaderboard:
        board = self.leaderboards.board_in_app(challenge.app_id, challenge.leaderboard_id)
        assert board is not None  # the store finds only challenges whose board exists
        return board

    def top_entries(self, challenge: Challenge) -> list[RankedEntry]:
        """The first page of the challenge's ranking (the ``entries`` field of a challenge)."""
        board = self.board_of(challenge)
        rows = sorted(((self._key(board, e), e, u) for e, u in self.store.entries_and_users(challenge.id)),
                      key=lambda row: row[0])[:ENTRIES_PAGE.default]
        return [RankedEntry(e, n + 1, u) for n, (_, e, u) in enumerate(rows)]

    def participants(self, challenge: Challenge) -> list[User]:
        return [user for _, user in self.store.entries_and_users(challenge.id)]

    def _visible(self, caller: Caller, challenge: Challenge) -> bool:
        if challenge.visibility != "PRIVATE" or not isinstance(caller, UserCaller):
            return True
        return bool(self.store.entries_and_users(challenge.id, [caller.user.id]))

    # --- entries -----------------------------------------------------------------------------------
    def entries(self, caller: Caller, challenge_id: int, query: ChallengeEntriesQuery) -> EntriesPage:
        challenge = self.get(caller, challenge_id)
        board = self.board_of(challenge)
        viewer = caller.user if isinstance(caller, UserCaller) else None
        if (query.start_at.startswith("VIEWER") or query.filter == "FRIENDS") and viewer is None:
            raise Forbidden("A viewer-centred or FRIENDS read needs a user access token")
        wanted: set[int] | None = None
        if query.filter == "FRIENDS":
            assert viewer is not None
            wanted = set(self.leaderboards._friend_user_ids(viewer)) | {viewer.id}
        elif query.filter == "USER_IDS":
            if len(query.user_ids) > MAX_USER_IDS:
                raise InvalidParameter(f"Param user_ids must list at most {MAX_USER_IDS} ids")
            wanted = set(query.user_ids) | ({viewer.id} if viewer is not None else set())  # D20
        rows = {self._key(board, e): (e, u) for e, u in self.store.entries_and_users(challenge.id, wanted)}
        view = _SortedKeys(list(rows))
        anchor: int | None = None
        offset, before = 0, False
        if query.after is not None:
            anchor = query.after + 1
        elif query.before is not None:
            anchor, offset, before = query.before, -query.limit, True
        elif query.start_at == "OFFSET":
            offset = query.offset
        elif query.start_at.startswith("VIEWER"):
            mine = next((k for k, (e, _) in rows.items() if viewer is not None and e.user_id == viewer.id), None)
            if mine is not None:
                anchor, offset = mine, -((query.limit - 1) // 2)
            elif query.start_at == "VIEWER":
                raise NotRanked("You're not yet ranked on this challenge.")
        page = view.page(anchor, offset, query.limit, before)
        ranked = [RankedEntry(rows[k][0], page.start + n + 1, rows[k][1]) for n, k in enumerate(page.keys)]
        return EntriesPage(ranked, page.keys, page.total, page.start > 0 and bool(page.keys),
                           page.start + len(page.keys) < page.total)

    @staticmethod
    def _key(board: Leaderboard, entry: Entry) -> int:
        return sort_key(board.sort_order, entry.score, entry.written_us, entry.id)


def _check_window(start: int, end: int) -> None:
    if end <= start:
        raise InvalidParameter("Param end_date must be after start_date")
