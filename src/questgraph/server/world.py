"""Declarative state: a TOML world file of orgs, apps, users, tokens, entitlements, SSO redirect URIs and
leaderboards (docs/config.md), applied to an empty database. The demo world is one such file."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from questgraph.server.auth.callers import AppCaller
from questgraph.server.errors import GraphError
from questgraph.server.identity.service import IdentityService
from questgraph.server.leaderboards.service import LeaderboardService, decode_extra_data


class WorldError(Exception):
    """A world file that cannot be applied; the message names the item at fault."""


@dataclass
class World:
    data: dict[str, Any]
    source: str

    @classmethod
    def load(cls, path: Path) -> World:
        try:
            return cls(tomllib.loads(path.read_text(encoding="utf-8")), str(path))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise WorldError(f"{path}: {exc}") from None

    @classmethod
    def demo(cls) -> World:
        text = (resources.files("questgraph.server") / "demo_world.toml").read_text(encoding="utf-8")
        return cls(tomllib.loads(text), "demo world")

    @property
    def admin_key(self) -> str | None:
        key = self.data.get("admin_key")
        return str(key) if key else None

    def apply(self, identity: IdentityService, leaderboards: LeaderboardService) -> None:
        where = self.source
        try:
            apps: dict[tuple[int, int], AppCaller] = {}
            for o, org_data in enumerate(self.data.get("orgs", [])):
                where = f"{self.source}: orgs[{o}]"
                org = identity.create_org(str(org_data["name"]), _id(org_data.get("id")))
                for uri in org_data.get("sso_redirect_uris", []):
                    identity.add_redirect_uri(org.id, str(uri))
                for a, app_data in enumerate(org_data.get("apps", [])):
                    where = f"{self.source}: orgs[{o}].apps[{a}]"
                    made = identity.create_app(org.id, str(app_data["name"]), _id(app_data.get("id")),
                                               _str(app_data.get("secret")))
                    apps[(o, a)] = AppCaller(made.app)
            persons: dict[str, int] = {}
            users_by_alias: dict[tuple[int, str], int] = {}
            for u, user_data in enumerate(self.data.get("users", [])):
                where = f"{self.source}: users[{u}]"
                alias = str(user_data["alias"])
                person = identity.create_person(alias, _str(user_data.get("display_name")),
                                                _str(user_data.get("profile_url")),
                                                str(user_data.get("age_category", "AD")))
                persons[alias] = person
                for m, member in enumerate(user_data.get("apps", [])):
                    where = f"{self.source}: users[{u}].apps[{m}]"
                    user = identity.join_app(person, int(member["app"]), _id(member.get("id")),
                                             _id(member.get("org_scoped_id")))
                    users_by_alias[(user.app_id, alias)] = user.id
                    if member.get("entitled", True):
                        identity.grant_entitlement(user.id)
                    for token in member.get("tokens", []):
                        identity.mint_user_token(user.id, str(token))
            for u, user_data in enumerate(self.data.get("users", [])):
                where = f"{self.source}: users[{u}].friends"
                for friend in user_data.get("friends", []):
                    if str(friend) not in persons:
                        raise WorldError(f"{where}: no user with alias {friend!r}")
                    identity.befriend(persons[str(user_data["alias"])], persons[str(friend)])
            for o, org_data in enumerate(self.data.get("orgs", [])):
                for a, app_data in enumerate(org_data.get("apps", [])):
                    caller = apps[(o, a)]
                    for b, board in enumerate(app_data.get("leaderboards", [])):
                        where = f"{self.source}: orgs[{o}].apps[{a}].leaderboards[{b}]"
                        made_board = leaderboards.upsert(
                            caller, caller.app.id, str(board["api_name"]),
                            sort_order=board.get("sort_order"),
                            entry_write_policy=board.get("entry_write_policy"),
                            earliest=board.get("earliest_allowed_entry_time"),
                            latest=board.get("latest_allowed_entry_time"),
                            title_locale_map=_locale_map(board.get("title_locale_map")),
                        )
                        for e, entry in enumerate(board.get("entries", [])):
                            where = f"{self.source}: orgs[{o}].apps[{a}].leaderboards[{b}].entries[{e}]"
                            ref = str(entry["user"])
                            user_id = users_by_alias.get((caller.app.id, ref)) or int(ref)
                            leaderboards.submit(caller, made_board.api_name, int(entry["score"]),
                                                decode_extra_data(entry.get("extra_data_base64")), True, user_id)
        except GraphError as exc:
            raise WorldError(f"{where}: {exc.message}") from None
        except (KeyError, ValueError, TypeError) as exc:
            raise WorldError(f"{where}: missing or malformed value ({exc})") from None


def _id(value: Any) -> int | None:
    return None if value is None else int(value)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _locale_map(value: Any) -> str | None:
    return None if value is None else json.dumps(value)
