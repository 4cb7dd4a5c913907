"""The ``questgraph`` commands of achievements, IAP, subscriptions and account linking (docs/client.md,
"The command line"): Graph reads with ``--token`` and admin actions with ``--admin-key``, through the
client, with tables or ``--json``. ``cli.py`` registers and dispatches them; its helpers do the printing."""

from __future__ import annotations

import argparse
import itertools
from typing import Any

from questgraph.cli import decimal_id

GRAPH_COMMANDS = ("achievements", "purchases", "subscriptions")
ADMIN_COMMANDS = ("catalogue", "links", "nonces")
COMMANDS = GRAPH_COMMANDS + ADMIN_COMMANDS


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    def group(name: str, help: str) -> argparse._SubParsersAction[argparse.ArgumentParser]:
        parser = sub.add_parser(name, help=help, description=help)
        return parser.add_subparsers(dest="action", required=True)

    def add(actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
            help: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, help=help, description=help, parents=[common])

    achievements = group("achievements", "achievements (Graph API, with --token)")
    listing = add(achievements, "list", "list the app's achievement definitions")
    listing.add_argument("--include-archived", action="store_true", help="show archived ones too (app token)")
    progress = add(achievements, "progress", "show a user's achievement progress")
    progress.add_argument("user_id", type=decimal_id)

    purchases = sub.add_parser("purchases", help="what a user owns (Graph API, with --token)",
                               description="What a user owns now: items and active subscriptions.",
                               parents=[common])
    purchases.add_argument("user_id", type=decimal_id)
    purchases.add_argument("--limit", type=int, default=100, help="rows to show (default 100)")

    subscriptions = group("subscriptions", "subscriptions (Graph API, with --token)")
    status = add(subscriptions, "list", "list subscriptions (every user's with an app token)")
    status.add_argument("--owner-id", type=decimal_id)
    status.add_argument("--active", action="store_true", help="only active ones")
    status.add_argument("--sku", action="append", help="only this sku (repeatable)")

    catalogue = group("catalogue", "the IAP catalogue and grants (admin API)")
    add(catalogue, "list", "list an app's catalogue").add_argument("app_id", type=decimal_id)
    item = add(catalogue, "add", "add an item to an app's catalogue")
    item.add_argument("app_id", type=decimal_id)
    item.add_argument("sku")
    item.add_argument("type", choices=["DURABLE", "CONSUMABLE", "SUBSCRIPTION"])
    item.add_argument("name")
    item.add_argument("--description")
    item.add_argument("--price", type=int, help="in hundredths (299 is 2.99)")
    item.add_argument("--currency", help="ISO code (default USD)")
    terms = ["WEEKLY", "BIWEEKLY", "MONTHLY", "QUARTERLY", "SEMIANNUAL", "ANNUAL"]
    item.add_argument("--subscription-term", choices=terms)
    item.add_argument("--trial-type", choices=["FREE_TRIAL", "INTRO_OFFER"])
    item.add_argument("--trial-term", choices=terms)
    item.add_argument("--trial-max-term-count", type=int)
    item.add_argument("--trial-price", type=int, help="in hundredths")
    grant = add(catalogue, "grant", "give a user an item or a subscription, as a purchase would")
    grant.add_argument("user_id", type=decimal_id)
    grant.add_argument("sku")
    grant.add_argument("--expires-at", type=int, help="Unix seconds (items only)")
    grant.add_argument("--trial", action=argparse.BooleanOptionalAction, default=None,
                       help="start a subscription with (or without) its trial")
    add(catalogue, "history", "a user's whole purchase history").add_argument("user_id", type=decimal_id)

    links = group("links", "account links (admin API)")
    add(links, "list", "list the account links of a user (app-scoped or org-scoped id)").add_argument(
        "user_id", type=decimal_id)
    add(links, "revoke", "revoke a link: its tokens stop at once").add_argument("link_id", type=decimal_id)

    nonces = group("nonces", "user proof nonces (admin API)")
    mint = add(nonces, "mint", "mint a user proof nonce (what the headset's GetUserProof gives)")
    mint.add_argument("user_id", type=decimal_id)
    mint.add_argument("--ttl", type=int, help="expire after this many seconds")


def dispatch(args: argparse.Namespace) -> str:
    from questgraph import cli

    command, action = args.command, getattr(args, "action", None)
    if command in GRAPH_COMMANDS:
        with cli._graph(args) as client:
            if command == "achievements" and action == "list":
                return cli._out(args, list(client.achievements.definitions(include_archived=args.include_archived)),
                                ["api_name", "id", "achievement_type", "achievement_write_policy", "target",
                                 "bitfield_length", "is_archived", "is_secret", "title"], many=True)
            if command == "achievements":
                rows = list(client.achievements.progress(args.user_id))
                if args.json:
                    return cli._json(rows)
                return cli._table([{"api_name": p.api_name, "unlocked": p.is_unlocked, "unlock_time": p.unlock_time,
                                    "count": p.count_progress, "bits": p.bitfield_progress, "target": p.target,
                                    "title": p.definition.title if p.definition else None} for p in rows],
                                  ["api_name", "unlocked", "unlock_time", "count", "bits", "target", "title"])
            if command == "purchases":
                owned = list(itertools.islice(client.entitlements.viewer_purchases(args.user_id),
                                              max(args.limit, 0)))
                if args.json:
                    return cli._json(owned)
                return cli._table([_purchase_row(p) for p in owned],
                                  ["sku", "name", "price", "grant_time", "expiration_time", "id"])
            subs = list(client.subscriptions.status(owner_id=args.owner_id, is_active=True if args.active else None,
                                                    skus=args.sku))
            if args.json:
                return cli._json(subs)
            return cli._table(cli._plain([{"sku": s.sku, "owner": s.owner.alias if s.owner else None,
                                "owner_id": s.owner.id if s.owner else None, "active": s.is_active,
                                "trial": s.is_trial, "period_end": s.period_end_time,
                                "renews": s.next_renewal_time, "cancelled": s.cancellation_time} for s in subs]),
                              ["sku", "owner", "owner_id", "active", "trial", "period_end", "renews", "cancelled"])
    with cli._admin(args) as admin:
        item_columns = ["sku", "type", "name", "price", "currency", "subscription_term", "trial_type", "id"]
        history_columns = ["kind", "sku", "type", "granted_at", "owned", "is_active", "expires_at", "consumed_at",
                           "refunded_at", "id"]
        if command == "catalogue" and action == "list":
            return cli._out(args, admin.items(args.app_id), item_columns, many=True)
        if command == "catalogue" and action == "add":
            return cli._out(args, [admin.create_item(
                args.app_id, args.sku, args.type, args.name, description=args.description, price=args.price,
                currency=args.currency, subscription_term=args.subscription_term, trial_type=args.trial_type,
                trial_term=args.trial_term, trial_max_term_count=args.trial_max_term_count,
                trial_price=args.trial_price)], item_columns)
        if command == "catalogue" and action == "grant":
            return cli._out(args, [admin.grant_item(args.user_id, args.sku, expires_at=args.expires_at,
                                                    trial=args.trial)], history_columns)
        if command == "catalogue":
            return cli._out(args, admin.purchases(args.user_id), history_columns, many=True)
        link_columns = ["id", "alias", "org_id", "org_scoped_id", "app_id", "created_at", "revoked", "live_tokens"]
        if command == "links" and action == "list":
            return cli._out(args, admin.links(args.user_id), link_columns, many=True)
        if command == "links":
            return cli._out(args, [admin.revoke_link(args.link_id)], link_columns,
                            note="Revoked: the link's oauth_tokens and refresh code no longer work.")
        nonce = admin.mint_nonce(args.user_id, ttl_seconds=args.ttl)
        return cli._json({"nonce": nonce.nonce, "expires_at": nonce.expires_at}) if args.json else nonce.nonce


def _purchase_row(p: Any) -> dict[str, Any]:
    item = p.item
    offer = item.current_offer if item else None
    return {"sku": item.sku if item else None, "name": item.name if item else None,
            "price": offer.price.formatted if offer and offer.price else None, "grant_time": p.grant_time,
            "expiration_time": p.expiration_time, "id": p.id}
