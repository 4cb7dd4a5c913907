"""Entitlements and in-app purchases (graph-api.md §3; D27–D29) as ``qg.entitlements.…``, and
subscriptions (§6) as ``qg.subscriptions.…``.

Each method is written once and builds its call; the group classes send it, their async twins await it
(_group.py).
Which calls are repeated after a transient failure is said per method ("safe to retry").
"""

from __future__ import annotations

from collections.abc import Sequence

from questgraph.client._async_client import AsyncClient
from questgraph.client._base import Call, nested, params, success
from questgraph.client._client import Client
from questgraph.client._group import C, Group, endpoint, paged
from questgraph.client._models import (
    ITEM_FIELDS,
    PURCHASE_FIELDS,
    SUBSCRIPTION_FIELDS,
    USER_FIELDS,
    Entitlement,
    IapItem,
    Id,
    ItemField,
    Page,
    Purchase,
    PurchaseField,
    Subscription,
    SubscriptionField,
    UserField,
    id_str,
    opt_id,
    page_parser,
)

# The nested selections behind the typed field names: every subfield of an offer and a billing plan, so
# ``current_offer`` and ``billing_plans`` come back whole (D5; ``price`` without braces shows all three).
_OFFER = "current_offer{id,name,description,price}"
_PLANS = ("billing_plans{paid_offer{id,name,description,price,subscription_term},"
          "trial_offers{id,trial_type,trial_term,max_term_count,name,description,price}}")


def _item_fields(fields: Sequence[ItemField]) -> str:
    return ",".join(_OFFER if f == "current_offer" else _PLANS if f == "billing_plans" else f for f in fields)


def _owner(owner_id: Id | None, owner_alias: str | None) -> dict[str, str]:
    if owner_id is None and owner_alias is None:
        raise ValueError("give owner_id or owner_alias")
    return params(owner_id=opt_id(owner_id, "owner_id"), owner_alias=owner_alias)


class _Entitlements(Group[C]):
    def _path(self, name: str) -> str:
        # D27: with the app id in the path when the client knows it (another app's id is then a 403),
        # else the app is the token's.
        return f"/{self._client.app_id}/{name}" if self._client.app_id else f"/{name}"

    @endpoint
    def verify(self, user_id: Id | None = None, *, sku: str | None = None) -> Call[Entitlement]:
        """Whether the user owns the app (no ``sku``) or the item ``sku`` (D27, D28): an ``Entitlement``
        (true when owned) with its ``grant_time``. Not owned is an answer, not an error (D8). Safe to retry."""
        # A read, though sent as POST (Meta's examples).
        return Call("POST", self._path("verify_entitlement"), params(user_id=opt_id(user_id, "user_id"), sku=sku),
                    lambda b: Entitlement(b.get("success") is True, None if b.get("grant_time") is None
                                          else int(b["grant_time"])), safe=True)

    @endpoint
    def consume(self, sku: str, user_id: Id | None = None) -> Call[bool]:
        """Consume an owned CONSUMABLE: True once, then False (D28); a DURABLE sku is ``InvalidParameter``.
        Not retried (a repeat would answer False for a consumption that happened)."""
        return Call("POST", self._path("consume_entitlement"), params(user_id=opt_id(user_id, "user_id"), sku=sku),
                    lambda b: b.get("success") is True)

    @endpoint
    def viewer_purchases_page(self, user_id: Id | None = None, *, fields: Sequence[PurchaseField] = PURCHASE_FIELDS,
                              item_fields: Sequence[ItemField] = ITEM_FIELDS, limit: int | None = None,
                              after: str | None = None, before: str | None = None) -> Call[Page[Purchase]]:
        """One page of what the user owns now, oldest grant first (§3.3)."""
        return Call("GET", f"/{self._client._require_app_id()}/viewer_purchases", params(
            user_id=opt_id(user_id, "user_id"), fields=nested(fields, "item", _item_fields(item_fields)),
            limit=limit, after=after, before=before,
        ), page_parser(Purchase.from_json), safe=True)

    @paged
    def viewer_purchases(self, user_id: Id | None = None, *, fields: Sequence[PurchaseField] = PURCHASE_FIELDS,
                         item_fields: Sequence[ItemField] = ITEM_FIELDS,
                         limit: int | None = None) -> Call[Page[Purchase]]:
        """Everything the user owns, following ``paging.next`` (D21); ``limit`` is the page size."""
        return _Entitlements.viewer_purchases_page.build(self, user_id, fields=fields, item_fields=item_fields,
                                                         limit=limit)

    @endpoint
    def available_purchases_page(self, *, fields: Sequence[ItemField] = ITEM_FIELDS, limit: int | None = None,
                                 after: str | None = None, before: str | None = None) -> Call[Page[IapItem]]:
        """One page of the catalogue by sku: all of it with an app token, what the user can buy with a user token."""
        return Call("GET", "/application/available_purchases", params(
            fields=_item_fields(fields), limit=limit, after=after, before=before,
        ), page_parser(IapItem.from_json), safe=True)

    @paged
    def available_purchases(self, *, fields: Sequence[ItemField] = ITEM_FIELDS,
                            limit: int | None = None) -> Call[Page[IapItem]]:
        """The whole (or the user's buyable) catalogue, following ``paging.next``."""
        return _Entitlements.available_purchases_page.build(self, fields=fields, limit=limit)

    @endpoint
    def refund(self, sku: str, user_id: Id, *, reason: str) -> Call[None]:
        """Refund a DURABLE or unconsumed CONSUMABLE item (§3.5); app token. Not retried."""
        # A repeat of an applied refund is a 400 (the item is no longer owned).
        return Call("POST", f"/{self._client._require_app_id()}/refund_iap_entitlement",
                    params(user_id=id_str(user_id, "user_id"), sku=sku, reason=reason), success)


class Entitlements(_Entitlements[Client]):
    """``client.entitlements``: entitlement checks and in-app purchases (graph-api.md §3).

    ``user_id`` is required with an app token and left out with a user token (``client.as_user(token)``)."""


class AsyncEntitlements(_Entitlements[AsyncClient]):
    """``AsyncClient.entitlements``: the methods of ``Entitlements``, awaited (the lists: ``async for``)."""


class _Subscriptions(Group[C]):
    @endpoint
    def status_page(self, *, owner_id: Id | None = None, is_active: bool | None = None, is_trial: bool | None = None,
                    skus: Sequence[str] | None = None, fields: Sequence[SubscriptionField] = SUBSCRIPTION_FIELDS,
                    owner_fields: Sequence[UserField] = USER_FIELDS, limit: int | None = None,
                    after: str | None = None, before: str | None = None) -> Call[Page[Subscription]]:
        """One page of subscriptions by start time: every user's with an app token (``owner_id`` narrows
        it), the user's own with a user token. ``is_active``/``is_trial``/``skus`` filter."""
        return Call("GET", "/application/subscriptions", params(
            owner_id=opt_id(owner_id, "owner_id"), is_active=is_active, is_trial=is_trial,
            skus=None if skus is None else ",".join(skus), fields=nested(fields, "owner", ",".join(owner_fields)),
            limit=limit, after=after, before=before,
        ), page_parser(Subscription.from_json), safe=True)

    @paged
    def status(self, *, owner_id: Id | None = None, is_active: bool | None = None, is_trial: bool | None = None,
               skus: Sequence[str] | None = None, fields: Sequence[SubscriptionField] = SUBSCRIPTION_FIELDS,
               owner_fields: Sequence[UserField] = USER_FIELDS, limit: int | None = None) -> Call[Page[Subscription]]:
        """Every matching subscription, following ``paging.next`` (D21)."""
        return _Subscriptions.status_page.build(self, owner_id=owner_id, is_active=is_active, is_trial=is_trial,
                                                skus=skus, fields=fields, owner_fields=owner_fields, limit=limit)

    @endpoint
    def cancel(self, sku: str, *, owner_id: Id | None = None, owner_alias: str | None = None,
               cancel_reason: int | None = None) -> Call[None]:
        """Stop the renewal of the owner's active subscription (access lasts to the period end); app token.
        Safe to retry (cancelling again changes nothing)."""
        # The first time and reason are kept (§6.2).
        return Call("POST", "/application/cancel_subscription", {
            **_owner(owner_id, owner_alias), **params(sku=sku, cancel_reason=cancel_reason)}, success, safe=True)

    @endpoint
    def extend(self, sku: str, number_of_days: int, *, owner_id: Id | None = None,
               owner_alias: str | None = None) -> Call[None]:
        """Move the current period's end (and the next renewal) by 1–365 days; app token. Not retried."""
        # A repeat would extend twice.
        return Call("POST", "/application/extend_subscription", {
            **_owner(owner_id, owner_alias), **params(sku=sku, number_of_days=number_of_days)}, success)


class Subscriptions(_Subscriptions[Client]):
    """``client.subscriptions``: status, cancel, extend (graph-api.md §6)."""


class AsyncSubscriptions(_Subscriptions[AsyncClient]):
    """``AsyncClient.subscriptions``: the methods of ``Subscriptions``, awaited (``status``: ``async for``)."""
