"""Admin API of the IAP catalogue and of purchases (docs/config.md): create and list items, grant an item or
a subscription to a user (what a purchase on the headset would do), and read a user's purchase history.
The routes are in admin/routes.py."""

from __future__ import annotations

from typing import Any

from questgraph.server.commerce.records import IapItem, Purchase, Subscription
from questgraph.server.commerce.service import ITEM_TYPES, CommerceService, ItemSpec, SubState
from questgraph.server.commerce.terms import TERMS, TRIAL_TYPES, iso
from questgraph.server.graph.request import GraphRequest, require_param


def item_view(item: IapItem) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(item.id), "app_id": str(item.app_id), "sku": item.sku, "type": item.item_type,
        "name": item.name, "description": item.description, "price": item.price_hundredths,
        "currency": item.currency,
    }
    if item.subscription_term is not None:
        out["subscription_term"] = item.subscription_term
    if item.trial_type is not None:
        out.update(trial_type=item.trial_type, trial_term=item.trial_term,
                   trial_max_term_count=item.trial_max_term_count, trial_price=item.trial_price_hundredths)
    return out


def purchase_view(purchase: Purchase, item: IapItem, now: int) -> dict[str, Any]:
    return {
        "id": str(purchase.id), "kind": "purchase", "sku": item.sku, "type": item.item_type,
        "granted_at": purchase.granted_at, "expires_at": purchase.expires_at,
        "consumed_at": purchase.consumed_at, "refunded_at": purchase.refunded_at,
        "refund_reason": purchase.refund_reason, "owned": purchase.owned_at(now),
    }


def subscription_view(state: SubState) -> dict[str, Any]:
    sub = state.sub
    return {
        "id": str(sub.id), "kind": "subscription", "sku": state.item.sku, "type": state.item.item_type,
        "granted_at": sub.started_at, "is_active": state.is_active, "is_trial": state.is_trial,
        "auto_renew": sub.auto_renew, "period_start_time": iso(state.period_start),
        "period_end_time": iso(state.period_end),
        "cancellation_time": None if sub.cancelled_at is None else iso(sub.cancelled_at),
        "cancel_reason": sub.cancel_reason, "extension_days": sub.extension_days,
    }


def create_item(commerce: CommerceService, request: GraphRequest) -> Any:
    params = request.params
    require_param(request, "type")
    spec = ItemSpec(
        sku=require_param(request, "sku"),
        item_type=params.enum("type", ITEM_TYPES) or "",
        name=require_param(request, "name"),
        description=params.text("description", max_length=4096) or "",
        price_hundredths=params.int64("price", minimum=0) or 0,
        currency=(params.get("currency") or "USD").strip().upper(),
        subscription_term=params.enum("subscription_term", TERMS),
        trial_type=params.enum("trial_type", TRIAL_TYPES),
        trial_term=params.enum("trial_term", TERMS),
        trial_max_term_count=params.int64("trial_max_term_count", minimum=1),
        trial_price_hundredths=params.int64("trial_price", minimum=0),
    )
    return item_view(commerce.create_item(request.path_id("app_id"), spec))


def list_items(commerce: CommerceService, request: GraphRequest) -> Any:
    return {"data": [item_view(i) for i in commerce.catalogue(request.path_id("app_id"))]}


def grant(commerce: CommerceService, request: GraphRequest) -> Any:
    """What a purchase on the headset would do: the item (or subscription) is the user's."""
    params = request.params
    trial = params.get("trial")
    made = commerce.grant(
        request.path_id("user_id"), require_param(request, "sku"),
        expires_at=params.int64("expires_at", minimum=0),
        trial=None if trial is None or trial == "" else params.boolean("trial"),
        granted_at=params.int64("granted_at", minimum=0),
    )
    history = commerce.history(made.user_id)
    if isinstance(made, Subscription):
        return next(subscription_view(s) for s in history.subscriptions if s.sub.id == made.id)
    return next(purchase_view(p, i, history.now) for p, i in history.purchases if p.id == made.id)


def history(commerce: CommerceService, request: GraphRequest) -> Any:
    found = commerce.history(request.path_id("user_id"))
    rows = [purchase_view(p, i, found.now) for p, i in found.purchases]
    rows += [subscription_view(s) for s in found.subscriptions]
    rows.sort(key=lambda r: (r["granted_at"], r["id"]))
    return {"user_id": str(found.user.id), "data": rows}
