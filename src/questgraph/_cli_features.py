"""The ``questgraph`` commands of achievements, IAP, subscriptions, account linking and the server's whole
state (reset, clock, snapshots, readiness) (docs/client.md, "The command line"): Graph calls with ``--token``
and admin actions with ``--admin-key``, through the client, with tables or ``--json``. ``cli.py`` registers
and dispatches them; its helpers do the printing."""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

from questgraph.cli import USER_HELP, CommandError, decimal_id, positive_int, unix_time, user_id_of, user_ref

GRAPH_COMMANDS = ("achievements", "purchases", "subscriptions", "notify")
ADMIN_COMMANDS = ("catalogue", "links", "nonces", "reset", "clock", "snapshot", "notifications")
COMMANDS = GRAPH_COMMANDS + ADMIN_COMMANDS + ("wait-ready",)


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
    progress.add_argument("user_id", type=user_ref, help=USER_HELP + " (and --admin-key to look the alias up)")
    unlock = add(achievements, "unlock", "unlock an achievement for a user (force_unlock, with an app token)")
    unlock.add_argument("user_id", type=user_ref, help=USER_HELP + " (and --admin-key to look the alias up)")
    unlock.add_argument("api_name", help="the achievement's api_name")

    purchases = sub.add_parser("purchases", help="what a user owns (Graph API, with --token)",
                               description="What a user owns now: items and active subscriptions.",
                               parents=[common])
    purchases.add_argument("user_id", type=user_ref, help=USER_HELP + " (and --admin-key to look the alias up)")
    purchases.add_argument("--limit", type=positive_int, default=100, help="rows to show (default 100)")

    subscriptions = group("subscriptions", "subscriptions (Graph API, with --token)")
    status = add(subscriptions, "list", "list subscriptions (every user's with an app token)")
    status.add_argument("--owner-id", type=decimal_id, help="only this user's (an app-scoped user id)")
    status.add_argument("--active", action="store_true", help="only active ones")
    status.add_argument("--sku", action="append", help="only this sku (repeatable)")

    catalogue = group("catalogue", "the IAP catalogue and grants (admin API)")
    add(catalogue, "list", "list an app's catalogue").add_argument("app_id", type=decimal_id, help="the app's id")
    item = add(catalogue, "add", "add an item to an app's catalogue")
    item.add_argument("app_id", type=decimal_id, help="the app's id")
    item.add_argument("sku", help="the item's sku (1-128 letters, digits, _ . -)")
    item.add_argument("type", choices=["DURABLE", "CONSUMABLE", "SUBSCRIPTION"], help="the kind of item")
    item.add_argument("name", help="the name shown in the store")
    item.add_argument("--description", help="the description shown in the store")
    item.add_argument("--price", type=positive_int, help="in hundredths (299 is 2.99; default 0)")
    item.add_argument("--currency", help="ISO 4217 code (default USD)")
    terms = ["WEEKLY", "BIWEEKLY", "MONTHLY", "QUARTERLY", "SEMIANNUAL", "ANNUAL"]
    item.add_argument("--subscription-term", choices=terms, help="SUBSCRIPTION only (required there): its term")
    item.add_argument("--trial-type", choices=["FREE_TRIAL", "INTRO_OFFER"], help="SUBSCRIPTION only: its trial")
    item.add_argument("--trial-term", choices=terms, help="with --trial-type: the trial's term")
    item.add_argument("--trial-max-term-count", type=positive_int, help="INTRO_OFFER: trial terms, 1-24 (default 1)")
    item.add_argument("--trial-price", type=positive_int, help="INTRO_OFFER: the price of a trial term, in hundredths")
    grant = add(catalogue, "grant", "give a user an item or a subscription, as a purchase would")
    grant.add_argument("user_id", type=user_ref, help=USER_HELP)
    grant.add_argument("sku", help="the item's sku")
    grant.add_argument("--expires-at", type=unix_time, help="items only: when it expires (Unix seconds or an ISO "
                       "date, in the future)")
    grant.add_argument("--granted-at", type=unix_time, help="when it was bought: Unix seconds or an ISO date, not "
                       "in the future (default: now)")
    grant.add_argument("--trial", action=argparse.BooleanOptionalAction, default=None,
                       help="start a subscription with (or without) its trial")
    add(catalogue, "history", "a user's whole purchase history").add_argument("user_id", type=user_ref, help=USER_HELP)

    links = group("links", "account links (admin API)")
    add(links, "list", "list the account links of a user (app-scoped or org-scoped id)").add_argument(
        "user_id", type=user_ref, help=USER_HELP)
    add(links, "revoke", "revoke a link: its tokens stop at once").add_argument("link_id", type=decimal_id,
                                                                               help="the link's id")

    nonces = group("nonces", "user proof nonces (admin API)")
    mint = add(nonces, "mint", "mint a user proof nonce (what the headset's GetUserProof gives)")
    mint.add_argument("user_id", type=user_ref, help=USER_HELP)
    mint.add_argument("--ttl", type=positive_int, help="expire after this many seconds (default 300)")
    mint.add_argument("--nonce", help="its text, so a test can name it (16-1024 letters, digits or . _ ~ + / = -; "
                      "default: 64 random letters and digits)")

    reset = sub.add_parser("reset", help="empty the server's state and apply its world again (admin API)",
                           description="Empty the server's database, set the clock back to the wall clock, apply "
                                       "the world the server was started with and rebuild the rank index.",
                           parents=[common])
    reset.add_argument("--empty", action="store_true", help="leave the database empty (no world)")

    clock = group("clock", "the emulator clock (admin API)")
    add(clock, "show", "show the clock: now, its offset from the wall clock, frozen or running")
    add(clock, "set", "jump the clock to a time, forwards or backwards").add_argument(
        "time", type=unix_time, help="Unix seconds or an ISO date (2030-01-01 or 2030-01-01T12:00:00Z)")
    add(clock, "advance", "move the clock forward").add_argument("seconds", type=positive_int,
                                                                 help="seconds to move it by")
    add(clock, "freeze", "stop the clock where it stands: it then moves only when told to")
    add(clock, "thaw", "let a frozen clock run again, from where it stands")
    add(clock, "wall", "return the clock to the wall clock (offset 0, running)")

    snapshot = group("snapshot", "export or import the whole state (admin API)")
    export = add(snapshot, "export", "write the whole state to a file, as JSON")
    export.add_argument("file", type=Path, nargs="?", default=Path("-"), help="where to write it (default - : stdout)")
    restore = add(snapshot, "import", "replace the whole state with a file's snapshot")
    restore.add_argument("file", type=Path, help="the snapshot (- : stdin)")

    # user notifications (D37): trigger one (Graph API) and the templates and record (admin API)
    notify = sub.add_parser("notify", help="trigger an event-based user notification (Graph API, with --token)",
                            description="POST /{request_id}/triggered_notifs_with_text_map: the app token for "
                                        "Events and Promotion requests, a user token for Social ones.",
                            parents=[common])
    notify.add_argument("request_id", type=decimal_id, help="the notification request id")
    notify.add_argument("recipient_ids", type=decimal_id, nargs="+", help="app-scoped user ids of the recipients")
    notifications = group("notifications", "notification request templates and what was sent (admin API)")
    add(notifications, "requests", "list an app's notification requests").add_argument(
        "app_id", type=decimal_id, help="the app's id")
    request = add(notifications, "add", "register a notification request id, as Meta's dashboard issues one")
    request.add_argument("app_id", type=decimal_id, help="the app's id")
    request.add_argument("category", type=str.upper, choices=["SOCIAL", "EVENTS", "PROMOTION"],
                         help="SOCIAL (sent with a user token), EVENTS or PROMOTION (the app token)")
    request.add_argument("--name", help="a label (at most 256 characters)")
    request.add_argument("--id", type=decimal_id, help="its id (15-17 digits; default: random)")
    add(notifications, "sent", "every notification an app triggered, oldest first").add_argument(
        "app_id", type=decimal_id, help="the app's id")

    ready = sub.add_parser("wait-ready", help="wait until the server answers Graph calls (for CI scripts)",
                           description="Poll /_health/ready until the server is ready (exit 0) or the timeout "
                                       "runs out (exit 1).")
    ready.add_argument("--base-url", default=common.get_default("base_url"),
                       help="server to wait for (env QUESTGRAPH_BASE_URL; default http://127.0.0.1:8080)")
    ready.add_argument("--timeout", type=float, default=30.0, help="seconds to wait at most (default 30)")


def dispatch(args: argparse.Namespace) -> str:
    from questgraph import cli

    command, action = args.command, getattr(args, "action", None)
    if command == "wait-ready":
        return wait_ready(args.base_url, args.timeout)
    if command in GRAPH_COMMANDS:
        if getattr(args, "user_id", None) is not None:
            args.user_id = user_id_of(args, args.user_id)
        with cli._graph(args) as client:
            if command == "notify":
                client.notifications.trigger(args.request_id, args.recipient_ids)
                return (cli._json({"success": True}) if args.json
                        else f"notification {args.request_id} sent to {len(set(args.recipient_ids))} user(s)")
            if command == "achievements" and action == "unlock":
                done = client.achievements.force_unlock(args.user_id, args.api_name)
                if args.json:
                    return cli._json(done)
                return (f"{args.api_name} is unlocked for user {args.user_id}"
                        + ("" if done.just_unlocked else " (it already was)"))
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
                return cli._table(cli._plain([_purchase_row(p) for p in owned]),
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
        if command in ("reset", "clock", "snapshot"):
            return _state(args, admin)
        if command == "notifications":
            return _notifications(args, admin)
        if getattr(args, "user_id", None) is not None:
            args.user_id = user_id_of(args, args.user_id, admin)
        item_columns = ["sku", "type", "name", "price", "subscription_term", "trial_type", "id"]
        history_columns = ["kind", "sku", "type", "granted_at", "owned", "is_active", "expires_at", "consumed_at",
                           "refunded_at", "id"]
        if command == "catalogue" and action == "list":
            return _items(args, admin.items(args.app_id), item_columns)
        if command == "catalogue" and action == "add":
            return _items(args, [admin.create_item(
                args.app_id, args.sku, args.type, args.name, description=args.description, price=args.price,
                currency=args.currency, subscription_term=args.subscription_term, trial_type=args.trial_type,
                trial_term=args.trial_term, trial_max_term_count=args.trial_max_term_count,
                trial_price=args.trial_price)], item_columns, one=True)
        if command == "catalogue" and action == "grant":
            return cli._out(args, [admin.grant_item(args.user_id, args.sku, expires_at=args.expires_at,
                                                    trial=args.trial, granted_at=args.granted_at)], history_columns)
        if command == "catalogue":
            return cli._out(args, admin.purchases(args.user_id), history_columns, many=True)
        link_columns = ["id", "alias", "org_id", "org_scoped_id", "app_id", "created_at", "revoked", "live_tokens"]
        if command == "links" and action == "list":
            return cli._out(args, admin.links(args.user_id), link_columns, many=True)
        if command == "links":
            return cli._out(args, [admin.revoke_link(args.link_id)], link_columns,
                            note="Revoked: the link's oauth_tokens and refresh code no longer work.")
        nonce = admin.mint_nonce(args.user_id, ttl_seconds=args.ttl, nonce=args.nonce)
        return cli._json({"nonce": nonce.nonce, "expires_at": nonce.expires_at}) if args.json else nonce.nonce


def _notifications(args: argparse.Namespace, admin: Any) -> str:
    from questgraph import cli

    request_columns = ["id", "category", "name", "created_at"]
    if args.action == "requests":
        return cli._out(args, admin.notif_requests(args.app_id), request_columns, many=True)
    if args.action == "add":
        return cli._out(args, [admin.create_notif_request(args.app_id, args.category, name=args.name, id=args.id)],
                        request_columns)
    rows = admin.notifications(args.app_id)
    if args.json:
        return cli._json(rows)
    return cli._table([{"sent_at": r.sent_at, "request_id": r.request_id, "recipients": ",".join(r.recipient_ids),
                        "sender_id": r.sender_id, "id": r.id} for r in rows],
                      ["sent_at", "request_id", "recipients", "sender_id", "id"])


def _purchase_row(p: Any) -> dict[str, Any]:
    from questgraph.cli import money

    item = p.item
    offer = item.current_offer if item else None
    price = offer.price if offer else None
    return {"sku": item.sku if item else None, "name": item.name if item else None,
            "price": money(price.amount_in_hundredths, price.currency) if price else None,
            "grant_time": p.grant_time, "expiration_time": p.expiration_time, "id": p.id}


def _items(args: argparse.Namespace, items: list[Any], columns: list[str], one: bool = False) -> str:
    """Catalogue items: in a table the price in the one format of every table (``2.99 USD``)."""
    from questgraph import cli

    if args.json:
        return cli._json(items[0] if one else items)
    rows = [cli._plain(i) for i in items]
    for row in rows:
        row["price"] = cli.money(row.get("price"), row.get("currency"))
    return cli._table(rows, columns)


def _state(args: argparse.Namespace, admin: Any) -> str:
    """reset, clock and snapshot: the server's whole-state actions."""
    from questgraph import cli

    command, action = args.command, args.action if args.command != "reset" else None
    if command == "reset":
        admin.reset(empty=args.empty)
        return cli._json({"success": True}) if args.json else (
            "the state is empty" if args.empty else "the state is reset: the server's world is applied afresh")
    if command == "snapshot" and action == "export":
        text = json.dumps(admin.export_snapshot())
        if str(args.file) == "-":
            return text
        args.file.write_text(text, encoding="utf-8")
        return f"the snapshot is in {args.file} ({len(text):,} bytes)"
    if command == "snapshot":
        try:
            raw = sys.stdin.read() if str(args.file) == "-" else args.file.read_text(encoding="utf-8")
            snapshot = json.loads(raw)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"cannot read a snapshot from {args.file}: {exc}") from None
        if not isinstance(snapshot, dict):
            raise CommandError(f"{args.file} is not a snapshot (`questgraph snapshot export` writes one)")
        admin.import_snapshot(snapshot)
        return cli._json({"success": True}) if args.json else f"the state is now {args.file}'s"
    moves = {"show": admin.clock, "freeze": lambda: admin.freeze_clock(True),
             "thaw": lambda: admin.freeze_clock(False), "wall": admin.wall_clock,
             "set": lambda: admin.set_clock(args.time), "advance": lambda: admin.advance_clock(args.seconds)}
    state = moves[str(action)]()
    if args.json:
        return cli._json(state)
    return (f"now {cli._cell('now', state.now)} ({state.now}), {round(state.offset_seconds):+d} s from the wall clock, "
            + ("frozen" if state.frozen else "running"))


def wait_ready(base_url: str, timeout: float) -> str:
    """Poll ``/_health/ready`` until it answers 200; CommandError with the last answer when time runs out."""
    import httpx

    deadline = time.monotonic() + max(timeout, 0.0)
    last = "no answer"
    while True:
        try:
            answer = httpx.get(f"{base_url.rstrip('/')}/_health/ready", timeout=2.0)
            if answer.status_code == 200:
                return "ready"
            try:
                last = f"status {answer.json().get('status')!r}"
            except ValueError:
                last = f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            last = f"cannot connect ({type(exc).__name__})"
        if time.monotonic() >= deadline:
            raise CommandError(f"{base_url} was not ready within {timeout:g} s (last: {last}).\n"
                               "  Is the server running (`questgraph serve`)? Raise the wait with --timeout.")
        time.sleep(0.2)
