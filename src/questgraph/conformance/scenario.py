"""The scripted scenario: the steps run against both servers, and the run itself.

Every step is a Graph call: a name, a method, a path and parameters (``$name`` templates filled from what the side
knows: its app id, its user's id, a leaderboard's api_name, a cursor an earlier step saw) and which token it
sends. By default every step only reads (or, for the error probes, is refused): nothing on either server
changes. The writing steps (a scratch leaderboard created, written, read and deleted; an achievement unlocked
and reset on a test user) run only when asked for with a named test app, and clean up in a ``finally``."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from string import Template
from typing import Any

import httpx

from questgraph import __version__
from questgraph.conformance.compare import Answer, Difference, compare

META_URL = "https://graph.oculus.com"
ENTRY_FIELDS = "id,rank,score,timestamp,extra_data_base64,user{id,alias}"


@dataclass
class Side:
    """One server and the credentials of its app and test user. Secrets are never printed (report.py)."""

    base_url: str
    app_id: str
    app_secret: str
    user_token: str
    user_id: str | None = None  # else learnt from GET /me
    leaderboard: str | None = None  # else the first one GET /{app_id}/leaderboards lists
    achievement: str | None = None  # for the writing steps' unlock and reset

    @property
    def app_token(self) -> str:
        return f"OC|{self.app_id}|{self.app_secret}"

    def secrets(self) -> list[str]:
        return [s for s in (self.app_secret, self.user_token, self.app_token) if s]


Remember = Callable[[Any], dict[str, str]]


@dataclass(frozen=True)
class Step:
    name: str
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    token: str = "app"  # app | user | bad | none
    remember: Remember | None = None  # from the answer's body: values later steps need
    writes: bool = False

    def needs(self) -> set[str]:
        """The ``$names`` in its path and parameters (``{…}`` is Graph's field syntax, so not these)."""
        return {name for text in (self.path, *self.params.values()) for name in Template(text).get_identifiers()}


def _first(path: str, key: str) -> Remember:
    """Remember ``body.data[0].<path>`` as ``key``."""
    def pick(body: Any) -> dict[str, str]:
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, list) and data and isinstance(data[0], dict) and data[0].get(path) is not None:
            return {key: str(data[0][path])}
        return {}
    return pick


def _after_cursor(body: Any) -> dict[str, str]:
    paging = body.get("paging") if isinstance(body, dict) else None
    if isinstance(paging, dict) and paging.get("next") and isinstance(paging.get("cursors"), dict):
        after = paging["cursors"].get("after")
        if isinstance(after, str) and after:
            return {"after": after}
    return {}


def _own(key: str, into: str) -> Remember:
    def pick(body: Any) -> dict[str, str]:
        return {into: str(body[key])} if isinstance(body, dict) and body.get(key) is not None else {}
    return pick


def read_steps() -> list[Step]:
    """The default scenario: calls that change nothing."""
    return [
        Step("me", "GET", "/me", {"fields": "id,alias"}, token="user", remember=_own("id", "user_id")),
        Step("user.node", "GET", "/$user_id", {"fields": "id,alias,display_name,profile_url"}),
        Step("leaderboards.list", "GET", "/$app_id/leaderboards",
             {"fields": "id,api_name,sort_order,entry_write_policy"}, remember=_first("api_name", "leaderboard")),
        Step("leaderboards.list_user_token", "GET", "/$app_id/leaderboards", {"fields": "id,api_name"},
             token="user"),
        Step("leaderboard_entries.first_page", "GET", "/leaderboard_entries",
             {"api_name": "$leaderboard", "fields": ENTRY_FIELDS, "limit": "1", "summary": "true"},
             remember=_after_cursor),
        Step("leaderboard_entries.next_page", "GET", "/leaderboard_entries",
             {"api_name": "$leaderboard", "fields": ENTRY_FIELDS, "limit": "1", "after": "$after"}),
        Step("leaderboard_entries.viewer", "GET", "/leaderboard_entries",
             {"api_name": "$leaderboard", "fields": ENTRY_FIELDS, "limit": "3",
              "start_at": "CENTERED_ON_VIEWER_OR_TOP"}, token="user"),
        Step("achievement_definitions", "GET", "/$app_id/achievement_definitions",
             {"fields": "id,api_name,achievement_type,achievement_write_policy,target,bitfield_length,is_archived,"
                        "title"}),
        Step("user.achievements", "GET", "/$user_id/achievements",
             {"fields": "id,api_name,is_unlocked,unlock_time,count_progress,bitfield_progress"}),
        Step("viewer_purchases", "GET", "/$app_id/viewer_purchases",
             {"fields": "id,grant_time,expiration_time,item{sku}"}, token="user"),
        Step("verify_entitlement", "POST", "/$app_id/verify_entitlement", {"user_id": "$user_id"}),
        Step("subscriptions", "GET", "/application/subscriptions", {"fields": "sku,is_active,owner{id}"}),
        # Error probes: each is refused, so nothing changes even where the call would write.
        Step("error.bad_token", "GET", "/$app_id/leaderboards", {"fields": "api_name"}, token="bad"),
        Step("error.no_token", "GET", "/$app_id/leaderboards", {"fields": "api_name"}, token="none"),
        Step("error.unknown_leaderboard", "GET", "/leaderboard_entries",
             {"api_name": "qg_conformance_no_such_board", "fields": "id"}),
        Step("error.bad_param", "GET", "/leaderboard_entries", {"api_name": "$leaderboard", "start_at": "NOWHERE"}),
        Step("error.unknown_field", "GET", "/$app_id/leaderboards", {"fields": "api_name,no_such_field"}),
        Step("error.submit_without_score", "POST", "/leaderboard_submit_entry",
             {"api_name": "$leaderboard", "user_id": "$user_id"}),
    ]


def write_steps(scratch: str) -> list[Step]:
    """The writing part (``--write --test-app``): a scratch leaderboard named ``scratch`` on both sides,
    written, read and deleted; an achievement unlocked and reset on the test user."""
    return [
        Step("write.leaderboard_create", "POST", "/$app_id/leaderboards",
             {"api_name": scratch, "sort_order": "HIGHER_IS_BETTER", "entry_write_policy": "CLIENT_AUTHORITATIVE"},
             remember=_own("id", "scratch_id"), writes=True),
        Step("write.submit_entry", "POST", "/leaderboard_submit_entry",
             {"api_name": scratch, "score": "42", "user_id": "$user_id"}, writes=True),
        Step("write.read_entries", "GET", "/leaderboard_entries",
             {"api_name": scratch, "fields": ENTRY_FIELDS}),
        Step("write.leaderboard_delete", "DELETE", "/$scratch_id", writes=True,
             remember=lambda body: {"scratch_deleted": "1"}),
        Step("write.achievement_unlock", "POST", "/$user_id/achievements",
             {"api_name": "$achievement", "force_unlock": "true"}, writes=True,
             remember=lambda body: {"unlocked": "1"}),
        Step("write.achievement_read", "GET", "/$user_id/achievements",
             {"api_names": "$achievement", "fields": "api_name,is_unlocked,unlock_time"}),
        Step("write.achievement_reset", "POST", "/achievement_remove_all", {"user_id": "$user_id"}, writes=True,
             remember=lambda body: {"reset": "1"}),
    ]


@dataclass
class StepResult:
    step: Step
    target: Answer | None = None  # None: skipped
    local: Answer | None = None
    skipped: str | None = None  # why, when it was not run
    differences: list[Difference] = field(default_factory=list)


@dataclass
class Run:
    target_url: str
    local_url: str
    started: datetime
    write: bool
    results: list[StepResult] = field(default_factory=list)
    cleanup_problems: list[str] = field(default_factory=list)
    version: str = __version__

    @property
    def differences(self) -> list[Difference]:
        return [d for r in self.results for d in r.differences]


class Caller:
    """Graph calls to one side: the token goes in the Authorization header, never in a URL."""

    def __init__(self, side: Side, timeout: float, transport: httpx.BaseTransport | None = None) -> None:
        self.side = side
        self.known: dict[str, str] = {"app_id": side.app_id}
        for key in ("user_id", "leaderboard", "achievement"):
            if getattr(side, key):
                self.known[key] = str(getattr(side, key))
        self.given = set(self.known)  # what the user named: never replaced by what a step saw
        self.http = httpx.Client(base_url=side.base_url.rstrip("/"), timeout=timeout, transport=transport)

    def token(self, which: str) -> str | None:
        return {"app": self.side.app_token, "user": self.side.user_token, "none": None,
                "bad": f"OC|{self.side.app_id}|{'0' * 32}"}[which]

    def call(self, step: Step) -> Answer:
        path = Template(step.path).substitute(self.known)
        params = {k: Template(v).substitute(self.known) for k, v in step.params.items()}
        token = self.token(step.token)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            if step.method == "POST":
                answer = self.http.post(path, data=params, headers=headers)
            else:
                answer = self.http.request(step.method, path, params=params, headers=headers)
        except httpx.HTTPError as exc:  # the name only: a message may quote the URL
            return Answer(None, failure=type(exc).__name__)
        try:
            body = answer.json()
        except ValueError:
            return Answer(answer.status_code, json=False)
        if answer.status_code == 200 and step.remember is not None:
            self.known.update((k, v) for k, v in step.remember(body).items() if k not in self.given)
        return Answer(answer.status_code, body)

    def close(self) -> None:
        self.http.close()


def run(target: Side, local: Side, *, write: bool = False, test_app: str | None = None, timeout: float = 10.0,
        steps: list[Step] | None = None) -> Run:
    """Run the scenario against both sides, step by step; a step either side cannot fill (no leaderboard,
    no next page) is skipped on both. ``write`` needs ``test_app`` equal to the target's app id."""
    if write and test_app != target.app_id:
        raise ValueError("the writing steps run only against a test app named with --test-app, and it must be "
                         f"the target's app id ({target.app_id})")
    scratch = f"qg_conformance_{secrets.token_hex(4)}"
    plan = steps if steps is not None else read_steps() + (write_steps(scratch) if write else [])
    result = Run(target.base_url, local.base_url, datetime.now(UTC), write)
    callers = (Caller(target, timeout), Caller(local, timeout))
    try:
        for step in plan:
            missing = sorted(step.needs() - set(callers[0].known) | step.needs() - set(callers[1].known))
            if missing:
                result.results.append(StepResult(step, skipped="no " + ", ".join(missing)))
                continue
            theirs, ours = callers[0].call(step), callers[1].call(step)
            result.results.append(StepResult(step, theirs, ours, differences=compare(step.name, theirs, ours)))
    finally:
        if write:
            for caller in callers:
                result.cleanup_problems.extend(_clean_up(caller))
        for caller in callers:
            caller.close()
    return result


def _clean_up(caller: Caller) -> Iterator[str]:
    """Undo what the writing steps did and did not undo themselves (a failed or skipped delete or reset)."""
    known = caller.known
    undo = []
    if "scratch_id" in known and "scratch_deleted" not in known:
        undo.append(Step("cleanup.leaderboard_delete", "DELETE", "/$scratch_id"))
    if "unlocked" in known and "reset" not in known:
        undo.append(Step("cleanup.achievement_reset", "POST", "/achievement_remove_all", {"user_id": "$user_id"}))
    for step in undo:
        answer = caller.call(step)
        if answer.status != 200:
            yield f"{step.name} on {caller.side.base_url} answered {answer.status or answer.failure}"
