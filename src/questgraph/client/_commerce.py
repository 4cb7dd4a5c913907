"""Entitlements and in-app purchases (graph-api.md §3; D27–D29) as ``qg.entitlements.…``, and
subscriptions (§6) as ``qg.subscriptions.…``.

``EntitlementCalls`` / ``SubscriptionCalls`` build the calls (no I/O); the group classes send them.
Which calls are repeated after a transient failure is said per method ("safe to retry").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from questgraph.client._base import Call, params
from questgraph.client._models import (
    ITEM_FIELDS,
    PURCHASE_FIELDS,
    SUBSCRIPTION_FIELDS,
    USER_FIELDS,
    Entitlement,
    IapItem,
    ItemField,
    Page,
    Purchase,
    PurchaseField,
    Subscription,
    SubscriptionField,
    UserField,
    id_str,
    page_parser,
)

if TYPE_CHECKING:
    from questgraph.client._async_client import AsyncClient
    from questgraph.client._client import Client

Id = int | str
# The nested selections behind the typed field names: every subfield of an offer and a billing plan, so
# ``current_offer`` and ``billing_plans`` come back whole (D5; ``price`` without braces shows all three).
_OFFER = "current_offer{id,name,description,price}"
_PLANS = ("billing_plans{paid_offer{id,name,description,price,subscription_term},"
          "trial_offers{id,trial_type,trial_term,max_term_count,name,description,price}}")


def item_fields(fields: Sequence[ItemField]) -> str:
    return ",".join(_OFFER if f == "current_offer" else _PLANS if f == "billing_plans" else f for f in fields)


def purchase_fields(fields: Sequence[PurchaseField], item: Sequence[ItemField]) -> str:
    return ",".join(f"item{{{item_fields(item)}}}" if f == "item" else f for f in fields)


def subscription_fields(fields: Sequence[SubscriptionField], owner: Sequence[UserField]) -> str:
    return ",".join(f"owner{{{','.join(owner)}}}" if f == "owner" else f for f in fields)


def _success(body: Any) -> None:
    if not (isinstance(body, dict) and body.get("success") is True):
        raise ValueError(f"unexpected answer: {body!r}")


def _user(user_id: Id | None) -> str | None:
    return None if user_id is None else id_str(user_id, "user_id")


class EntitlementCalls:
    """The entitlement and IAP calls, built without I/O (shared by both clients)."""

    @staticmethod
    def _path(app_id: str | None, name: str) -> str:
        # D27: with the app id in the path when the client knows it (another app's id is then a 403),
        # else the app is the token's.
        return f"/{app_id}/{name}" if app_id else f"/{name}"

    @staticmethod
    def verify(app_id: str | None, user_id: Id | None, sku: str | None) -> Call[Entitlement]:
        # A read, though sent as POST (Meta's examples): safe to repeat.
        return Call("POST", EntitlementCalls._path(app_id, "verify_entitlement"),
                    params(user_id=_user(user_id), sku=sku),
                    lambda b: Entitlement(b.get("success") is True, None if b.get("grant_time") is None
                                          else int(b["grant_time"])), safe=True)

    @staticmethod
    def consume(app_id: str | None, user_id: Id | None, sku: str) -> Call[bool]:
        # Never repeated: if the first try consumed the item, the repeat answers False for a success.
        return Call("POST", EntitlementCalls._path(app_id, "consume_entitlement"),
                    params(user_id=_user(user_id), sku=sku), lambda b: b.get("success") is True)

    @staticmethod
    def viewer_purchases_page(app_id: str, user_id: Id | None, *, fields: Sequence[PurchaseField],
                              item: Sequence[ItemField], limit: int | None, after: str | None,
                              before: str | None) -> Call[Page[Purchase]]:
        return Call("GET", f"/{app_id}/viewer_purchases", params(
            user_id=_user(user_id), fields=purchase_fields(fields, item), limit=limit, after=after, before=before,
        ), page_parser(Purchase.from_json), safe=True)

    @staticmethod
    def available_purchases_page(*, fields: Sequence[ItemField], limit: int | None, after: str | None,
                                 before: str | None) -> Call[Page[IapItem]]:
        return Call("GET", "/application/available_purchases", params(
            fields=item_fields(fields), limit=limit, after=after, before=before,
        ), page_parser(IapItem.from_json), safe=True)

    @staticmethod
    def refund(app_id: str, user_id: Id, sku: str, reason: str) -> Call[None]:
        # Never repeated: a repeat of an applied refund is a 400 (the item is no longer owned).
        return Call("POST", f"/{app_id}/refund_iap_entitlement",
                    params(user_id=id_str(user_id, "user_id"), sku=sku, reason=reason), _success)


class SubscriptionCalls:
    """The subscription calls, built without I/O."""

    @staticmethod
    def status_page(*, owner_id: Id | None, is_active: bool | None, is_trial: bool | None,
                    skus: Sequence[str] | None, fields: Sequence[SubscriptionField], owner: Sequence[UserField],
                    limit: int | None, after: str | None, before: str | None) -> Call[Page[Subscription]]:
        return Call("GET", "/application/subscriptions", params(
            owner_id=None if owner_id is None else id_str(owner_id, "owner_id"), is_active=is_active,
            is_trial=is_trial, skus=None if skus is None else ",".join(skus),
            fields=subscription_fields(fields, owner), limit=limit, after=after, before=before,
        ), page_parser(Subscription.from_json), safe=True)

    @staticmethod
    def _owner(owner_id: Id | None, owner_alias: str | None) -> dict[str, str]:
        if owner_id is None and owner_alias is None:
            raise ValueError("give owner_id or owner_alias")
        return params(owner_id=None if owner_id is None else id_str(owner_id, "owner_id"), owner_alias=owner_alias)

    @staticmethod
    def cancel(sku: str, owner_id: Id | None, owner_alias: str | None, cancel_reason: int | None) -> Call[None]:
        # Cancelling again changes nothing (§6.2, the first time and reason are kept): safe to repeat.
        return Call("POST", "/application/cancel_subscription", {
            **SubscriptionCalls._owner(owner_id, owner_alias), **params(sku=sku, cancel_reason=cancel_reason),
        }, _success, safe=True)

    @staticmethod
    def extend(sku: str, number_of_days: int, owner_id: Id | None, owner_alias: str | None) -> Call[None]:
        # Never repeated: a repeat would extend twice.
        return Call("POST", "/application/extend_subscription", {
            **SubscriptionCalls._owner(owner_id, owner_alias), **params(sku=sku, number_of_days=number_of_days),
        }, _success)


class Entitlements:
    """``client.entitlements``: entitlement checks and in-app purchases (graph-api.md §3).

    ``user_id`` is required with an app token and left out with a user token (``client.as_user(token)``)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def verify(self, user_id: Id | None = None, *, sku: str | None = None) -> Entitlement:
        """Whether the user owns the app (no ``sku``) or the item ``sku`` (D27, D28): an ``Entitlement``
        (true when owned) with its ``grant_time``. Not owned is an answer, not an error (D8). Safe to retry."""
        return self._client.send(EntitlementCalls.verify(self._client.app_id, user_id, sku))

    def consume(self, sku: str, user_id: Id | None = None) -> bool:
        """Consume an owned CONSUMABLE: True once, then False (D28); a DURABLE sku is ``InvalidParameter``.
        Not retried (a repeat would answer False for a consumption that happened)."""
        return self._client.send(EntitlementCalls.consume(self._client.app_id, user_id, sku))

    def viewer_purchases_page(self, user_id: Id | None = None, *, fields: Sequence[PurchaseField] = PURCHASE_FIELDS,
                              item_fields: Sequence[ItemField] = ITEM_FIELDS, limit: int | None = None,
                              after: str | None = None, before: str | None = None) -> Page[Purchase]:
        """One page of what the user owns now, oldest grant first (§3.3)."""
        return self._client.send(EntitlementCalls.viewer_purchases_page(
            self._client._require_app_id(), user_id, fields=fields, item=item_fields, limit=limit, after=after,
            before=before))

    def viewer_purchases(self, user_id: Id | None = None, *, fields: Sequence[PurchaseField] = PURCHASE_FIELDS,
                         item_fields: Sequence[ItemField] = ITEM_FIELDS,
                         limit: int | None = None) -> Iterator[Purchase]:
        """Everything the user owns, following ``paging.next`` (D21); ``limit`` is the page size."""
        call = EntitlementCalls.viewer_purchases_page(self._client._require_app_id(), user_id, fields=fields,
                                                      item=item_fields, limit=limit, after=None, before=None)
        for page in self._client.pages(call):
            yield from page.data

    def available_purchases_page(self, *, fields: Sequence[ItemField] = ITEM_FIELDS, limit: int | None = None,
                                 after: str | None = None, before: str | None = None) -> Page[IapItem]:
        """One page of the catalogue by sku: all of it with an app token, what the user can buy with a user token."""
        return self._client.send(EntitlementCalls.available_purchases_page(
            fields=fields, limit=limit, after=after, before=before))

    def available_purchases(self, *, fields: Sequence[ItemField] = ITEM_FIELDS,
                            limit: int | None = None) -> Iterator[IapItem]:
        """The whole (or the user's buyable) catalogue, following ``paging.next``."""
        call = EntitlementCalls.available_purchases_page(fields=fields, limit=limit, after=None, before=None)
        for page in self._client.pages(call):
            yield from page.data

    def refund(self, sku: str, user_id: Id, *, reason: str) -> None:
        """Refund a DURABLE or unconsumed CONSUMABLE item (§3.5); app token. Not retried."""
        self._client.send(EntitlementCalls.refund(self._client._require_app_id(), user_id, sku, reason))


class AsyncEntitlements:
    """``AsyncClient.entitlements``: the methods of ``Entitlements``, awaited."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def verify(self, user_id: Id | None = None, *, sku: str | None = None) -> Entitlement:
        """See ``Entitlements.verify``."""
        return await self._client.send(EntitlementCalls.verify(self._client.app_id, user_id, sku))

    async def consume(self, sku: str, user_id: Id | None = None) -> bool:
        """See ``Entitlements.consume`` (not retried)."""
        return await self._client.send(EntitlementCalls.consume(self._client.app_id, user_id, sku))

    async def viewer_purchases_page(self, user_id: Id | None = None, *,
                                    fields: Sequence[PurchaseField] = PURCHASE_FIELDS,
                                    item_fields: Sequence[ItemField] = ITEM_FIELDS, limit: int | None = None,
                                    after: str | None = None, before: str | None = None) -> Page[Purchase]:
        """See ``Entitlements.viewer_purchases_page``."""
        return await self._client.send(EntitlementCalls.viewer_purchases_page(
            self._client._require_app_id(), user_id, fields=fields, item=item_fields, limit=limit, after=after,
            before=before))

    async def viewer_purchases(self, user_id: Id | None = None, *,
                               fields: Sequence[PurchaseField] = PURCHASE_FIELDS,
                               item_fields: Sequence[ItemField] = ITEM_FIELDS,
                               limit: int | None = None) -> AsyncIterator[Purchase]:
        """See ``Entitlements.viewer_purchases``: ``async for``."""
        call = EntitlementCalls.viewer_purchases_page(self._client._require_app_id(), user_id, fields=fields,
                                                      item=item_fields, limit=limit, after=None, before=None)
        async for page in self._client.pages(call):
            for row in page.data:
                yield row

    async def available_purchases_page(self, *, fields: Sequence[ItemField] = ITEM_FIELDS, limit: int | None = None,
                                       after: str | None = None, before: str | None = None) -> Page[IapItem]:
        """See ``Entitlements.available_purchases_page``."""
        return await self._client.send(EntitlementCalls.available_purchases_page(
            fields=fields, limit=limit, after=after, before=before))

    async def available_purchases(self, *, fields: Sequence[ItemField] = ITEM_FIELDS,
                                  limit: int | None = None) -> AsyncIterator[IapItem]:
        """See ``Entitlements.available_purchases``: ``async for``."""
        call = EntitlementCalls.available_purchases_page(fields=fields, limit=limit, after=None, before=None)
        async for page in self._client.pages(call):
            for row in page.data:
                yield row

    async def refund(self, sku: str, user_id: Id, *, reason: str) -> None:
        """See ``Entitlements.refund`` (not retried)."""
        await self._client.send(EntitlementCalls.refund(self._client._require_app_id(), user_id, sku, reason))


class Subscriptions:
    """``client.subscriptions``: status, cancel, extend (graph-api.md §6)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def status_page(self, *, owner_id: Id | None = None, is_active: bool | None = None, is_trial: bool | None = None,
                    skus: Sequence[str] | None = None, fields: Sequence[SubscriptionField] = SUBSCRIPTION_FIELDS,
                    owner_fields: Sequence[UserField] = USER_FIELDS, limit: int | None = None,
                    after: str | None = None, before: str | None = None) -> Page[Subscription]:
        """One page of subscriptions by start time: every user's with an app token (``owner_id`` narrows
        it), the user's own with a user token. ``is_active``/``is_trial``/``skus`` filter."""
        return self._client.send(SubscriptionCalls.status_page(
            owner_id=owner_id, is_active=is_active, is_trial=is_trial, skus=skus, fields=fields, owner=owner_fields,
            limit=limit, after=after, before=before))

    def status(self, *, owner_id: Id | None = None, is_active: bool | None = None, is_trial: bool | None = None,
               skus: Sequence[str] | None = None, fields: Sequence[SubscriptionField] = SUBSCRIPTION_FIELDS,
               owner_fields: Sequence[UserField] = USER_FIELDS, limit: int | None = None) -> Iterator[Subscription]:
        """Every matching subscription, following ``paging.next`` (D21)."""
        call = SubscriptionCalls.status_page(owner_id=owner_id, is_active=is_active, is_trial=is_trial, skus=skus,
                                             fields=fields, owner=owner_fields, limit=limit, after=None, before=None)
        for page in self._client.pages(call):
            yield from page.data

    def cancel(self, sku: str, *, owner_id: Id | None = None, owner_alias: str | None = None,
               cancel_reason: int | None = None) -> None:
        """Stop the renewal of the owner's active subscription (access lasts to the period end); app token.
        Safe to retry (cancelling again changes nothing)."""
        self._client.send(SubscriptionCalls.cancel(sku, owner_id, owner_alias, cancel_reason))

    def extend(self, sku: str, number_of_days: int, *, owner_id: Id | None = None,
               owner_alias: str | None = None) -> None:
        """Move the current period's end (and the next renewal) by 1–365 days; app token. Not retried."""
        self._client.send(SubscriptionCalls.extend(sku, number_of_days, owner_id, owner_alias))


class AsyncSubscriptions:
    """``AsyncClient.subscriptions``: the methods of ``Subscriptions``, awaited."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def status_page(self, *, owner_id: Id | None = None, is_active: bool | None = None,
                          is_trial: bool | None = None, skus: Sequence[str] | None = None,
                          fields: Sequence[SubscriptionField] = SUBSCRIPTION_FIELDS,
                          owner_fields: Sequence[UserField] = USER_FIELDS, limit: int | None = None,
                          after: str | None = None, before: str | None = None) -> Page[Subscription]:
        """See ``Subscriptions.status_page``."""
        return await self._client.send(SubscriptionCalls.status_page(
            owner_id=owner_id, is_active=is_active, is_trial=is_trial, skus=skus, fields=fields, owner=owner_fields,
            limit=limit, after=after, before=before))

    async def status(self, *, owner_id: Id | None = None, is_active: bool | None = None,
                     is_trial: bool | None = None, skus: Sequence[str] | None = None,
                     fields: Sequence[SubscriptionField] = SUBSCRIPTION_FIELDS,
                     owner_fields: Sequence[UserField] = USER_FIELDS,
                     limit: int | None = None) -> AsyncIterator[Subscription]:
        """See ``Subscriptions.status``: ``async for``."""
        call = SubscriptionCalls.status_page(owner_id=owner_id, is_active=is_active, is_trial=is_trial, skus=skus,
                                             fields=fields, owner=owner_fields, limit=limit, after=None, before=None)
        async for page in self._client.pages(call):
            for row in page.data:
                yield row

    async def cancel(self, sku: str, *, owner_id: Id | None = None, owner_alias: str | None = None,
                     cancel_reason: int | None = None) -> None:
        """See ``Subscriptions.cancel``."""
        await self._client.send(SubscriptionCalls.cancel(sku, owner_id, owner_alias, cancel_reason))

    async def extend(self, sku: str, number_of_days: int, *, owner_id: Id | None = None,
                     owner_alias: str | None = None) -> None:
        """See ``Subscriptions.extend`` (not retried)."""
        await self._client.send(SubscriptionCalls.extend(sku, number_of_days, owner_id, owner_alias))
