"""The OpenAPI 3.1 document of the Graph API and of the admin API, made from the route tables.

Paths, methods and parameters come from each feature's ``routes.py`` and ``admin/routes.py`` (their
``Param`` rows); each row names its answer's schema, and the schemas are below, beside the error envelope
(D6) and its rows (D7, from errors.py). The document is made once, on the first request for it
(``GET /_openapi.json``), never on a Graph request. docs/openapi.json is a copy, written by
``python -m questgraph.server.openapi docs/openapi.json`` (tests/test_openapi.py checks it is current).
"""

from __future__ import annotations

import copy
import functools
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import questgraph
from questgraph.server import errors
from questgraph.server.achievements import routes as achievement_routes
from questgraph.server.admin import routes as admin_routes
from questgraph.server.commerce import routes as commerce_routes
from questgraph.server.errors import GraphError
from questgraph.server.federation import routes as federation_routes
from questgraph.server.graph import objects as object_routes
from questgraph.server.graph.routing import ObjectRoute, Param, Route, RouteTable
from questgraph.server.integrity import routes as integrity_routes
from questgraph.server.leaderboards import routes as leaderboard_routes
from questgraph.server.notifications import routes as notification_routes
from questgraph.server.sso import routes as sso_routes
from questgraph.server.users import routes as user_routes

OPENAPI_PATH = "/_openapi.json"  # outside the Graph namespace: no Graph path starts with "_" (D1)
Schema = dict[str, Any]
Table = RouteTable[Any]

# (tag, table), in the order app.py registers them; /{id} (graph/objects.py) is served after all of them.
GRAPH_TABLES: tuple[tuple[str, Table], ...] = (
    ("leaderboards", leaderboard_routes.ROUTES), ("account linking", sso_routes.ROUTES),
    ("achievements", achievement_routes.ROUTES), ("users", user_routes.ROUTES),
    ("entitlements, IAP and subscriptions", commerce_routes.ROUTES),
    ("user notifications", notification_routes.ROUTES), ("federated users", federation_routes.ROUTES),
    ("platform integrity", integrity_routes.ROUTES),
    ("objects", object_routes.ROUTES),
)
ADMIN_TABLES: tuple[Table, ...] = (
    admin_routes.IDENTITY, admin_routes.STATE, admin_routes.USERS, admin_routes.ACHIEVEMENTS,
    admin_routes.COMMERCE, admin_routes.DASHBOARD, admin_routes.SSO, admin_routes.NOTIFICATIONS,
    admin_routes.FAULTS,
    admin_routes.FEDERATION,
    admin_routes.INTEGRITY,
)


# --- schema helpers ----------------------------------------------------------------------------------------
def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Schema], required: Iterable[str] = ()) -> Schema:
    """An object with exactly these properties (exact on output: an unknown field is a mismatch)."""
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def exact(properties: dict[str, Schema]) -> Schema:
    """An object that always has every one of its properties."""
    return obj(properties, properties)


def node(properties: dict[str, Schema]) -> Schema:
    """A Graph node: ``fields`` selects its properties, and ``id`` is always there (D5)."""
    return obj(properties, ["id"] if "id" in properties else [])


def listing(item: Schema) -> Schema:
    return obj({"data": {"type": "array", "items": item}}, ["data"])


def page(item: str, **extra: Schema) -> Schema:
    return obj({"data": {"type": "array", "items": ref(item)}, "paging": ref("Paging"), **extra}, ["data"])


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
TRUE: Schema = {"const": True}
ID: Schema = {"type": "string", "pattern": "^[0-9]{1,19}$"}
MAP: Schema = {"type": "object", "additionalProperties": STR}  # a locale map
ISO_TIME: Schema = {"type": "string", "description": "ISO-8601 with offset, 2021-03-09T13:04:20+0000 (§0.5)"}


def nullable(schema: Schema) -> Schema:
    return {**schema, "type": [schema["type"], "null"]}


# --- answers -----------------------------------------------------------------------------------------------
USER_REF = {"id": ID, "alias": STR, "display_name": STR, "profile_url": STR,
            "presence": STR, "presence_status": STR, "profile_url_small": STR}  # the last three: D10
_OFFER = {"id": ID, "description": STR, "name": STR, "price": ref("Price")}
GRAPH_SCHEMAS: dict[str, Schema] = {
    "Success": obj({"success": TRUE}, ["success"]),
    "Id": obj({"id": ID}, ["id"]),
    "Paging": obj({
        "cursors": obj({"before": STR, "after": STR}, ["before", "after"]),
        "previous": {"type": "string", "format": "uri"}, "next": {"type": "string", "format": "uri"},
    }, ["cursors"]),
    # leaderboards
    "Leaderboard": node({
        "id": ID, "api_name": STR, "sort_order": STR, "entry_write_policy": STR, "entry_count": INT,
        "earliest_allowed_entry_time": INT, "latest_allowed_entry_time": INT, "title": STR, "title_locale_map": MAP,
    }),
    "Leaderboards": listing(ref("Leaderboard")),
    "UserRef": node(USER_REF),
    "LeaderboardEntry": node({
        "id": ID, "user": ref("UserRef"), "rank": INT, "score": INT, "timestamp": INT, "extra_data_base64": STR,
    }),
    "LeaderboardEntries": page("LeaderboardEntry", summary=obj({"total_count": INT}, ["total_count"])),
    "SubmitEntry": obj({"success": TRUE, "did_update": BOOL, "updated_challenge_ids": {"type": "array", "items": ID}},
                       ["success", "did_update", "updated_challenge_ids"]),
    # achievements
    "AchievementDefinition": node({
        "id": ID, "api_name": STR, "achievement_type": STR, "achievement_write_policy": STR, "target": INT,
        "bitfield_length": INT, "is_archived": BOOL, "is_secret": BOOL, "title": STR, "description": STR,
        "unlocked_description_override": STR, "title_locale_map": MAP, "description_locale_map": MAP,
        "locked_image_uri": STR, "unlocked_image_uri": STR,
    }),
    "AchievementDefinitions": page("AchievementDefinition"),
    "AchievementProgress": node({
        "id": ID, "definition": ref("AchievementDefinition"), "api_name": STR, "target": INT, "is_unlocked": BOOL,
        "unlock_time": INT, "count_progress": INT, "bitfield_progress": STR,
    }),
    "AchievementProgressList": page("AchievementProgress"),
    "AchievementWrite": obj({"id": ID, "api_name": STR, "just_unlocked": BOOL}, ["id", "api_name", "just_unlocked"]),
    # users
    "User": node({**USER_REF, "org_scoped_id": ID}),
    "NonceValidation": obj({"is_valid": BOOL}, ["is_valid"]),
    # account linking
    "OAuthGrant": obj({"oauth_token": STR, "refresh_code": STR}, ["oauth_token", "refresh_code"]),
    # entitlements, IAP, subscriptions
    "Entitlement": obj({"success": BOOL, "grant_time": INT}, ["success"]),
    "Consumed": obj({"success": BOOL}, ["success"]),
    "Price": obj({"currency": STR, "amount_in_hundredths": INT, "formatted": STR}),
    "Offer": node(_OFFER),
    "PaidOffer": node({**_OFFER, "subscription_term": STR}),
    "TrialOffer": node({**_OFFER, "trial_type": STR, "trial_term": STR, "max_term_count": INT}),
    "BillingPlan": obj({"paid_offer": ref("PaidOffer"), "trial_offers": {"type": "array", "items": ref("TrialOffer")}}),
    "IAPItem": node({
        "id": ID, "sku": STR, "name": STR, "description": STR, "current_offer": ref("Offer"),
        "billing_plans": {"type": "array", "items": ref("BillingPlan")},
    }),
    "Items": page("IAPItem"),
    "Purchase": node({"id": ID, "grant_time": INT, "expiration_time": INT, "item": ref("IAPItem")}),
    "Purchases": page("Purchase"),
    "PriceTerm": obj({"term": STR, "currency": STR, "price": STR}),
    "Subscription": node({
        "id": ID, "owner": ref("UserRef"), "sku": STR, "period_start_time": ISO_TIME, "period_end_time": ISO_TIME,
        "cancellation_time": ISO_TIME, "next_renewal_time": ISO_TIME, "is_trial": BOOL, "trial_type": STR,
        "is_active": BOOL, "current_price_term": ref("PriceTerm"), "next_price_term": ref("PriceTerm"),
    }),
    "Subscriptions": page("Subscription"),
    # federated users (A.2): paging.previous / next are URLs or empty strings, always present
    "FederatedUser": node({"id": ID, "persistent_id": STR, "unique_name": STR, "display_name": STR}),
    "FederatedUsers": obj({
        "data": {"type": "array", "items": ref("FederatedUser")},
        "paging": obj({"cursors": obj({"before": STR, "after": STR}, ["before", "after"]), "previous": STR,
                       "next": STR}, ["previous", "next"]),
    }, ["data", "paging"]),
    "AccessToken": obj({"access_token": STR}, ["access_token"]),
    # platform integrity (A.4)
    "AttestationVerdict": listing(obj({"message": {"enum": ["success", "invalid signature", "token expired"]},
                                       "claims": STR}, ["message"])),
    "DeviceBan": exact({"message": {"const": "Success"}, "ban_id": STR}),
    "DeviceBanIds": obj({"data": {"type": "array", "items": exact({
        "message": {"const": "Success"},
        "all_ban_ids": {"type": "array", "items": exact({"ban_id": STR, "creation_date": STR})},
    })}, "paging": ref("Paging")}, ["data"]),
    "DeviceBanStatus": listing(exact({"message": {"const": "Success"}, "is_banned": BOOL,
                                      "remaining_time_in_minute": INT})),
    # challenges (A.1)
    "Challenge": node({
        "id": ID, "title": STR, "description": STR, "start_date": ISO_TIME, "end_date": ISO_TIME,
        "leaderboard": ref("Leaderboard"), "creation_type": STR, "visibility": STR,
        "invited_users": listing(ref("UserRef")), "participants": listing(ref("UserRef")),
        "entries": listing(ref("ChallengeEntry")),
    }),
    "Challenges": listing(ref("Challenge")),
    "ChallengeEntry": node({
        "id": ID, "challenge": node({"id": ID}), "user": ref("UserRef"), "rank": INT, "score": INT,
        "timestamp": INT, "extra_data": STR,
    }),
    "ChallengeEntries": page("ChallengeEntry", summary=obj({"total_count": INT}, ["total_count"])),
}
_APP = {"id": ID, "org_id": ID, "name": STR}
_LINK = {"id": ID, "org_id": ID, "org_scoped_id": ID, "app_id": ID, "created_at": INT,
         "refreshed_at": nullable(INT), "revoked": BOOL, "revoked_at": nullable(INT), "revoked_reason": nullable(STR)}
_HISTORY = {"id": ID, "sku": STR, "type": STR, "granted_at": INT}
ADMIN_SCHEMAS: dict[str, Schema] = {
    "Org": obj({"id": ID, "name": STR}, ["id", "name"]),
    "OrgScopedId": exact({"org_id": ID, "org_scoped_id": ID}),
    "App": obj({**_APP, "secret": STR, "app_access_token": STR}, _APP),  # the secret only when made (D12)
    "Orgs": listing(obj({"id": ID, "name": STR, "apps": {"type": "array", "items": ref("App")},
                         "sso_redirect_uris": {"type": "array", "items": STR}},
                        ["id", "name", "apps", "sso_redirect_uris"])),
    "AdminUser": exact({"id": ID, "app_id": ID, "alias": STR, "display_name": STR, "profile_url": STR,
                        "age_category": STR, "org_scoped_id": ID, "entitled": BOOL}),
    "AdminUsers": listing(ref("AdminUser")),
    "UserToken": obj({"access_token": STR}, ["access_token"]),
    "Nonce": obj({"nonce": STR, "expires_at": INT}, ["nonce", "expires_at"]),
    "AdminProgressList": listing(exact({
        "id": ID, "api_name": STR, "definition_id": ID, "achievement_type": STR, "is_archived": BOOL,
        "is_unlocked": BOOL, "unlock_time": INT, "count_progress": INT, "bitfield_progress": STR,
    })),
    "AdminItem": obj({
        "id": ID, "app_id": ID, "sku": STR, "type": STR, "name": STR, "description": STR, "price": INT,
        "currency": STR, "subscription_term": STR, "trial_type": STR, "trial_term": nullable(STR),
        "trial_max_term_count": nullable(INT), "trial_price": nullable(INT),
    }, ["id", "app_id", "sku", "type", "name", "description", "price", "currency"]),
    "AdminItems": listing(ref("AdminItem")),
    "HistoryRow": {"oneOf": [
        exact({**_HISTORY, "kind": {"const": "purchase"}, "expires_at": nullable(INT), "consumed_at": nullable(INT),
               "refunded_at": nullable(INT), "refund_reason": nullable(STR), "owned": BOOL}),
        exact({**_HISTORY, "kind": {"const": "subscription"}, "is_active": BOOL, "is_trial": BOOL, "auto_renew": BOOL,
               "period_start_time": ISO_TIME, "period_end_time": ISO_TIME, "cancellation_time": nullable(STR),
               "cancel_reason": nullable(INT), "extension_days": INT}),
    ]},
    "PurchaseHistory": obj({"user_id": ID, "data": {"type": "array", "items": ref("HistoryRow")}}, ["user_id", "data"]),
    "Snapshot": obj({"version": INT, "tables": {"type": "object", "additionalProperties": {"type": "array"}}},
                    ["version", "tables"]),
    "Clock": obj({"now": INT, "offset_seconds": NUM, "frozen": BOOL}, ["now", "offset_seconds", "frozen"]),
    "RedirectUris": listing(STR),
    "Link": obj({**_LINK, "alias": STR, "live_tokens": INT}, _LINK),
    "Links": listing(ref("Link")),
    "RevokedLink": obj({"success": TRUE, "link": ref("Link")}, ["success", "link"]),
    "Member": exact({"id": ID, "org_id": ID, "email": STR, "name": STR, "role": STR, "has_password": BOOL,
                     "created_at": INT}),
    "Members": listing(ref("Member")),
    "AuditLog": listing(exact({"id": ID, "at": INT, "org_id": nullable(ID), "actor": STR, "action": STR,
                               "target": STR, "detail": STR})),
    # challenges (A.1)
    "AdminChallenge": obj({
        "id": ID, "app_id": ID, "leaderboard_id": ID, "leaderboard_api_name": STR, "title": STR, "description": STR,
        "visibility": STR, "creation_type": STR, "start_date": ISO_TIME, "end_date": ISO_TIME, "state": STR,
        "entry_count": INT,
    }, ["id", "app_id", "leaderboard_id", "visibility", "start_date", "end_date", "state"]),
    "AdminChallenges": listing(ref("AdminChallenge")),
    # Fault injection (docs/fault-injection.md)
    "FaultRule": obj({"id": ID, "kind": STR, "method": STR, "route": STR, "app_id": ID, "status": INT, "code": INT,
                      "error_subcode": INT, "type": STR, "message": STR, "is_transient": BOOL, "latency_ms": INT,
                      "probability": NUM, "seed": INT, "remaining": nullable(INT), "hits": INT, "created_at": INT},
                     ["id", "kind", "remaining", "hits", "created_at"]),
    "FaultsCleared": obj({"success": TRUE, "deleted": INT}, ["success", "deleted"]),
    "FaultRules": obj({"data": {"type": "array", "items": ref("FaultRule")}, "enabled": BOOL}, ["data", "enabled"]),
    # user notifications (D37)
    "NotifRequest": exact({"id": ID, "app_id": ID, "category": STR, "name": STR, "created_at": INT}),
    "NotifRequests": listing(ref("NotifRequest")),
    "Notifications": listing(exact({"id": ID, "app_id": ID, "request_id": ID,
                                    "recipient_ids": {"type": "array", "items": ID},
                                    "sender_id": nullable(ID), "sent_at": INT})),
    "AdminFederatedUser": exact({"id": ID, "app_id": ID, "persistent_id": STR, "unique_name": STR,
                                 "display_name": STR, "created_at": INT}),
    "AdminFederatedUsers": listing(ref("AdminFederatedUser")),
    # platform integrity (A.4)
    "AttestationToken": exact({"token": STR, "unique_id": STR, "expires_at": INT, "claims": {"type": "object"}}),
    "AdminDeviceBans": listing(exact({"ban_id": STR, "unique_id": STR, "created_at": INT, "expires_at": INT})),
}


# --- the error envelope (D6) and its rows (D7) ---------------------------------------------------------------
def error_classes() -> list[type[GraphError]]:
    """The rows of errors.py, the one error tree (subclasses elsewhere only refine a row's message)."""
    return [c for c in vars(errors).values()
            if isinstance(c, type) and issubclass(c, GraphError) and c is not GraphError]


def error_schema() -> Schema:
    classes = error_classes()
    rows = "\n".join(f"| {c.status} | {c.__name__} | {c.type} | {c.code} | {c.subcode or ''} | "
                     f"{str(c.is_transient).lower()} |" for c in sorted(classes, key=lambda c: (c.status, c.code)))
    envelope = obj({
        "message": STR, "type": {"enum": sorted({c.type for c in classes})}, "code": INT, "error_subcode": INT,
        "is_transient": BOOL, "error_data": {"type": "object"},
        "fbtrace_id": {"type": "string", "pattern": "^[A-Za-z0-9]{23}$"},
    }, ["message", "type", "code", "is_transient", "error_data", "fbtrace_id"])
    return {**obj({"error": envelope}, ["error"]), "description": (
        "Every answer that is not a success (D6). The rows (D7):\n\n"
        "| status | error | type | code | subcode | is_transient |\n|---|---|---|---|---|---|\n" + rows)}


# --- parameters ----------------------------------------------------------------------------------------------
_TYPES: dict[str, Schema] = {
    "string": STR,
    "integer": INT,
    "boolean": {**BOOL, "description": "true/false/1/0 in any case (D2)"},
    "id": {**ID, "description": "a decimal object id (D9)"},
    "ids": {"type": "string", "format": "id-list",
            "description": "ids as a JSON array, a comma-separated list, or the parameter repeated"},
    "list": {"type": "string", "format": "name-list",
             "description": "a JSON array of strings, a comma-separated list, or the parameter repeated"},
    "json": {"type": "string", "format": "json", "contentMediaType": "application/json",
             "description": "JSON text (in a JSON body, also the JSON value itself; D2)"},
    "fields": {"type": "string", "format": "fields",
               "description": "the fields to answer, nested with braces: user{id,alias},rank (D5)"},
    "cursor": {"type": "string", "format": "cursor", "description": "a cursor from paging.cursors (D21)"},
    "file": {"type": "string", "format": "binary", "contentMediaType": "image/*"},
}


def param_schema(param: Param) -> Schema:
    schema = dict(_TYPES[param.type])
    if param.enum:
        schema["enum"] = list(param.enum)
        schema["description"] = "any case (D20)"
    if param.minimum is not None:
        schema["minimum"] = param.minimum
    if param.maximum is not None:
        schema["maximum"] = param.maximum
    return schema


def body_schema(params: Iterable[Param], media_type: str) -> Schema:
    chosen = [p for p in params if p.type != "file" or media_type == "multipart/form-data"]
    properties = {p.name: param_schema(p) for p in chosen}
    if media_type == "application/json":
        for p in chosen:
            if p.type == "json":  # a JSON body may carry the value itself (D2)
                properties[p.name] = {**_TYPES["json"], "type": ["string", "object", "array"]}
    return {"type": "object", "properties": properties, "required": [p.name for p in chosen if p.required]}


def _path_params(path: str) -> list[Schema]:
    return [{"name": part[1:-1], "in": "path", "required": True, "schema": ID}
            for part in path.split("/") if part.startswith("{")]


_TRACE_HEADER = {"x-fb-trace-id": {"required": True, "schema": {"type": "string", "pattern": "^[A-Za-z0-9]{23}$"}}}
_BODY_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "application/json")


def operation(route: Route[Any], operation_id: str, tag: str, admin: bool, answer: Schema) -> Schema:
    op: Schema = {"operationId": operation_id, "tags": [tag]}
    doc = (route.handler.__doc__ or "").strip().split("\n\n")[0]
    if doc:
        op["summary"] = " ".join(doc.split())
    op["parameters"] = _path_params(route.path)
    if route.method == "POST" and route.params:
        op["requestBody"] = {
            "required": any(p.required for p in route.params),
            "description": "Each parameter may also come from the query string; a body value wins (D2).",
            "content": {m: {"schema": body_schema(route.params, m)} for m in _BODY_TYPES},
        }
    else:
        op["parameters"] += [{"name": p.name, "in": "query", "required": p.required, "schema": param_schema(p)}
                             for p in route.params]
    op["responses"] = {
        "200": {"description": "the answer", "headers": _TRACE_HEADER,
                "content": {"application/json": {"schema": answer}}},
        "default": {"$ref": "#/components/responses/Error"},
    }
    op["security"] = [{"adminKey": []}] if admin else [{"bearer": []}, {"access_token": []}]
    return op


def _rows(tables: Iterable[tuple[str, Table]], admin: bool) -> Iterator[tuple[str, Route[Any], bool]]:
    for tag, table in tables:
        for row in table:
            if isinstance(row, Route):
                yield tag, row, admin


def build() -> Schema:
    """The whole document, as a JSON-ready dict of its own (the same every time: docs/openapi.json is a copy).
    The schemas above are shared by many operations: a copy, so that no user of one can change the next."""
    kinds = [row.answer for _, table in GRAPH_TABLES for row in table if isinstance(row, ObjectRoute)]
    schemas = {**GRAPH_SCHEMAS, "Object": {"anyOf": [ref(k) for k in kinds]}, **ADMIN_SCHEMAS, "Error": error_schema()}
    paths: dict[str, Schema] = {}
    used: set[str] = set()
    rows = [*_rows(GRAPH_TABLES, False), *_rows((("admin", t) for t in ADMIN_TABLES), True)]
    for tag, route, admin in rows:
        name = ("admin_" if admin else "") + route.handler.__name__
        if name in used:
            name += "_" + route.method.lower()
        while name in used:
            name += "_" + str(len(used))
        used.add(name)
        if route.answer not in schemas:
            raise KeyError(f"{route.method} {route.path}: no schema named {route.answer!r}")
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route, name, tag, admin, ref(route.answer))
    return copy.deepcopy({
        "openapi": "3.1.0",
        "info": {
            "title": "questgraph: the Meta Quest S2S Graph API (graph.oculus.com) and its admin API",
            "version": questgraph.__version__,
            "description": (
                "Graph paths are at the server root (D1) and answer with or without a trailing slash. Parameters "
                "may come from the query, a form, multipart or a JSON object body, whatever the method (D2); "
                "`method=GET|POST|DELETE` overrides the HTTP method (D3). The token is `access_token` or "
                "`Authorization: Bearer|OAuth` (D4). The admin API (`/_admin`) takes the admin key the same way. "
                "Every error is the envelope of the `Error` schema. Reference: docs/api.md, docs/config.md, "
                "docs/fidelity.md."
            ),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "http://127.0.0.1:8080", "description": "questgraph serve, by default"}],
        "tags": [{"name": tag} for tag, _ in GRAPH_TABLES] + [{"name": "admin", "description": "docs/config.md"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {"Error": {"description": "an error (D6, D7)", "headers": _TRACE_HEADER,
                                    "content": {"application/json": {"schema": ref("Error")}}}},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": (
                    "an app token OC|app_id|secret, a user token, or (for /me) an SSO oauth_token; the scheme "
                    "OAuth is accepted too (D4)")},
                "access_token": {"type": "apiKey", "in": "query", "name": "access_token",
                                 "description": "the token as a parameter: query, form, multipart or JSON (D4)"},
                "adminKey": {"type": "http", "scheme": "bearer", "description": "the admin key (--admin-key)"},
            },
        },
    })


@functools.cache
def document_bytes() -> bytes:
    """The document as served: made once per process, on the first request for it."""
    return json.dumps(build(), ensure_ascii=False, indent=1).encode()


def main(argv: list[str]) -> int:
    """``python -m questgraph.server.openapi [FILE]``: write the document to FILE (docs/openapi.json), or print it."""
    text = json.dumps(build(), ensure_ascii=False, indent=1) + "\n"
    if argv:
        with open(argv[0], "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
