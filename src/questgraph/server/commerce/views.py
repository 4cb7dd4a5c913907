"""HTTP handlers of entitlements and IAP (graph-api.md §3) and subscriptions (§6): parse, call, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from questgraph.server.commerce.records import IapItem
from questgraph.server.commerce.service import (
    MAX_EXTENSION_DAYS,
    CommerceService,
    Owned,
    Page,
    SubscriptionQuery,
    SubState,
    paginate,
)
from questgraph.server.commerce.terms import decimal_price, formatted_price, iso
from questgraph.server.errors import InvalidParameter
from questgraph.server.graph.cursors import (
    COMMERCE_PAGE,
    CursorKey,
    cursor_param,
    encode_json_cursor,
    json_cursor_decoder,
)
from questgraph.server.graph.fields import Field, NodeType, Selection
from questgraph.server.graph.params import parse_id
from questgraph.server.graph.request import GraphRequest, require_param
from questgraph.server.users.fields import presence_fields

T = TypeVar("T")
MAX_SKUS = 1000


class ValueNode(NodeType):
    """A plain object without an id (a price, a price term, a billing plan): named without braces it shows
    every field, since there is no id to fall back on (D5)."""

    def render(self, obj: Any, selection: Selection | None) -> dict[str, Any]:
        return super().render(obj, selection or [(name, None) for name in self.fields])


class ListNode(NodeType):
    """A list-valued field whose items are ``inner`` nodes: the selection applies to each item."""

    def __init__(self, inner: NodeType) -> None:
        super().__init__(inner.name, inner.fields)
        self.inner = inner

    def render(self, obj: Any, selection: Selection | None) -> Any:
        return [self.inner.render(item, selection) for item in obj]


PRICE_NODE = ValueNode("Price", {
    "currency": Field(lambda p: p[1]),
    "amount_in_hundredths": Field(lambda p: p[0]),
    "formatted": Field(lambda p: formatted_price(p[0], p[1])),
})


def _offer(kind: str, extra: dict[str, Field]) -> NodeType:
    return NodeType(kind, {
        "id": Field(lambda o: str(o[0])),
        "description": Field(lambda o: o[1].description),
        "name": Field(lambda o: o[1].name),
        **extra,
    })


# Offers are (offer id, item) pairs, so every offer field reads from the catalogue row.
OFFER_NODE = _offer("Offer", {"price": Field(lambda o: (o[1].price_hundredths, o[1].currency), PRICE_NODE)})
PAID_OFFER_NODE = _offer("PaidOffer", {
    "price": Field(lambda o: (o[1].price_hundredths, o[1].currency), PRICE_NODE),
    "subscription_term": Field(lambda o: o[1].subscription_term),
})
TRIAL_OFFER_NODE = _offer("TrialOffer", {
    "price": Field(lambda o: (o[1].trial_price_hundredths, o[1].currency), PRICE_NODE),
    "trial_type": Field(lambda o: o[1].trial_type),
    "trial_term": Field(lambda o: o[1].trial_term),
    # §3.4: max_term_count belongs to intro offers only.
    "max_term_count": Field(lambda o: o[1].trial_max_term_count if o[1].trial_type == "INTRO_OFFER" else None),
})


def _trial_offers(item: IapItem) -> list[tuple[int, IapItem]]:
    return [] if item.trial_offer_id is None else [(item.trial_offer_id, item)]


BILLING_PLAN_NODE = ValueNode("BillingPlan", {
    "paid_offer": Field(lambda i: (i.offer_id, i), PAID_OFFER_NODE),
    "trial_offers": Field(_trial_offers, ListNode(TRIAL_OFFER_NODE)),
})


def _billing_plans(item: IapItem) -> list[IapItem]:
    return [item] if item.item_type == "SUBSCRIPTION" else []


ITEM_NODE = NodeType("IAPItem", {
    "id": Field(lambda i: str(i.id)),
    "sku": Field(lambda i: i.sku),
    "name": Field(lambda i: i.name),
    "description": Field(lambda i: i.description),
    "current_offer": Field(lambda i: (i.offer_id, i), OFFER_NODE),
    "billing_plans": Field(_billing_plans, ListNode(BILLING_PLAN_NODE)),
})

PURCHASE_NODE = NodeType("Purchase", {
    "id": Field(lambda o: str(o.id)),
    "grant_time": Field(lambda o: o.grant_time),
    "expiration_time": Field(lambda o: o.expiration_time),
    "item": Field(lambda o: o.item, ITEM_NODE),
})

OWNER_NODE = NodeType("User", {
    "id": Field(lambda u: str(u.id)),
    "alias": Field(lambda u: u.alias),
    "display_name": Field(lambda u: u.display_name),
    "profile_url": Field(lambda u: u.profile_url),
    **presence_fields(lambda u: u.profile_url),
})

PRICE_TERM_NODE = ValueNode("PriceTerm", {
    "term": Field(lambda t: t[0]),
    "currency": Field(lambda t: t[1]),
    "price": Field(lambda t: t[2]),
})


def _current_term(s: SubState) -> tuple[str, str, str]:
    item = s.item
    if s.is_trial:
        assert item.trial_price_hundredths is not None
        # §6.1: the term may be empty for trials; a free trial has no term of its own.
        term = "" if item.trial_type == "FREE_TRIAL" else (item.trial_term or "")
        return term, item.currency, decimal_price(item.trial_price_hundredths)
    return item.subscription_term or "", item.currency, decimal_price(item.price_hundredths)


def _next_term(s: SubState) -> tuple[str, str, str] | None:
    if not s.renews:
        return None  # cancelled or lapsed: nothing will be charged next
    return s.item.subscription_term or "", s.item.currency, decimal_price(s.item.price_hundredths)


SUBSCRIPTION_NODE = NodeType("Subscription", {
    "id": Field(lambda s: str(s.sub.id)),
    "owner": Field(lambda s: s.owner, OWNER_NODE),
    "sku": Field(lambda s: s.item.sku),
    "period_start_time": Field(lambda s: iso(s.period_start)),
    "period_end_time": Field(lambda s: iso(s.period_end)),
    "cancellation_time": Field(lambda s: None if s.sub.cancelled_at is None else iso(s.sub.cancelled_at)),
    "next_renewal_time": Field(lambda s: iso(s.period_end) if s.renews else None),
    "is_trial": Field(lambda s: s.is_trial),
    "trial_type": Field(lambda s: s.item.trial_type if s.is_trial else None),  # only when is_trial (§6.1)
    "is_active": Field(lambda s: s.is_active),
    "current_price_term": Field(_current_term, PRICE_TERM_NODE),
    "next_price_term": Field(_next_term, PRICE_TERM_NODE),
})
# §0.3: subscriptions default to sku, owner{id}, is_active (D5 keeps a documented default).
SUBSCRIPTION_DEFAULT: Selection = [("sku", None), ("owner", [("id", None)]), ("is_active", None)]


def _optional_boolean(request: GraphRequest, key: str) -> bool | None:
    value = request.params.get(key)
    return None if value is None or value == "" else request.params.boolean(key)


def _skus(request: GraphRequest) -> list[str]:
    """``skus`` as a comma list, a JSON array, or repeated."""
    found = request.params.string_list("skus")
    if len(found) > MAX_SKUS:
        raise InvalidParameter(f"Param skus must list at most {MAX_SKUS} skus")
    return found


def _path_app(request: GraphRequest) -> int | None:
    return request.path_id("app_id") if "app_id" in request.path_params else None


# Decoders of each list's cursors, made once: a cursor must have the shape of its list's keys.
_TIME_ID_CURSOR = json_cursor_decoder((0, 0))  # (grant or start time, id)
_SKU_CURSOR = json_cursor_decoder(("",))


def _paged(request: GraphRequest, rows: list[T], key: Callable[[T], CursorKey],
           decode: Callable[[str], CursorKey | None], render: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """``{"data", "paging"}`` with keyset cursors and absolute previous/next links (D21)."""
    params = request.params
    page: Page[T] = paginate(rows, key, COMMERCE_PAGE.limit(params), cursor_param(params, "after", decode),
                             cursor_param(params, "before", decode))
    body: dict[str, Any] = {"data": [render(r) for r in page.rows]}
    if page.first is not None and page.last is not None:
        body["paging"] = request.paging(encode_json_cursor(page.first), encode_json_cursor(page.last),
                                        page.has_previous, page.has_next)
    return body


def verify_entitlement(service: CommerceService, request: GraphRequest) -> dict[str, Any]:
    granted = service.verify(request.caller, _path_app(request), request.params.get("user_id"),
                             request.params.get("sku"))
    return {"success": False} if granted is None else {"success": True, "grant_time": granted}  # D28


def consume_entitlement(service: CommerceService, request: GraphRequest) -> dict[str, Any]:
    sku = require_param(request, "sku")
    consumed = service.consume(request.caller, _path_app(request), request.params.get("user_id"), sku)
    return {"success": consumed}  # D28


def viewer_purchases(service: CommerceService, request: GraphRequest) -> dict[str, Any]:
    selection = request.fields(PURCHASE_NODE)
    rows = service.viewer_purchases(request.caller, request.path_id("app_id"), request.params.get("user_id"))
    return _paged(request, rows, _owned_key, _TIME_ID_CURSOR, lambda r: PURCHASE_NODE.render(r, selection))


def available_purchases(service: CommerceService, request: GraphRequest) -> dict[str, Any]:
    selection = request.fields(ITEM_NODE)
    rows = service.available(request.caller)
    return _paged(request, rows, _item_key, _SKU_CURSOR, lambda i: ITEM_NODE.render(i, selection))


def refund_iap_entitlement(service: CommerceService, request: GraphRequest) -> dict[str, Any]:
    app_id = request.path_id("app_id")
    sku = require_param(request, "sku")
    reason = require_param(request, "reason")
    service.refund(request.caller, app_id, request.params.get("user_id"), sku, reason)
    return {"success": True}


def subscriptions(service: CommerceService, request: GraphRequest) -> dict[str, Any]:
    selection = request.fields(SUBSCRIPTION_NODE) or SUBSCRIPTION_DEFAULT
    owner = request.params.get("owner_id")
    query = SubscriptionQuery(
        owner_id=None if owner is None or not owner.strip() else parse_id("owner_id", owner),
        is_active=_optional_boolean(request, "is_active"),
        is_trial=_optional_boolean(request, "is_trial"),
        skus=_skus(request),
    )
    rows = service.subscriptions(request.caller, query)
    return _paged(request, rows, _subscription_key, _TIME_ID_CURSOR,
                  lambda s: SUBSCRIPTION_NODE.render(s, selection))


def cancel_subscription(service: CommerceService, request: GraphRequest) -> dict[str, Any]:
    params = request.params
    reason = params.int64("cancel_reason", minimum=0, maximum=5)
    service.cancel(request.caller, params.get("owner_id"), params.get("owner_alias"),
                   require_param(request, "sku"), 0 if reason is None else reason)
    return {"success": True}


def extend_subscription(service: CommerceService, request: GraphRequest) -> dict[str, Any]:
    params = request.params
    days = params.int64("number_of_days", required=True, minimum=1, maximum=MAX_EXTENSION_DAYS)
    assert days is not None
    service.extend(request.caller, params.get("owner_id"), params.get("owner_alias"),
                   require_param(request, "sku"), days)
    return {"success": True}


def _owned_key(row: Owned) -> tuple[int, int]:
    return row.grant_time, row.id


def _item_key(item: IapItem) -> tuple[str]:
    return (item.sku,)


def _subscription_key(state: SubState) -> tuple[int, int]:
    return state.sub.started_at, state.sub.id
