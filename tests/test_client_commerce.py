"""The client's entitlements (§3; D27–D29) and subscriptions (§6; D36) groups and the commerce admin
calls, sync and async, against the shared real server: verify with and without sku (D8 "no" answers),
consume exactly once, the purchase and catalogue iterators with nested fields, refund, status filters,
cancel, extend, errors, and app isolation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest

from questgraph import AsyncClient, Client, InvalidParameter, NotFound, PermissionDenied
from questgraph.client import AdminClient, AsyncAdminClient, Entitlement, IapItem, Price
from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    ADMIN_KEY,
    APP_ID,
    APP_SECRET,
    GRACE_ID,
    GRACE_TOKEN,
    RIVAL_APP_ID,
    RIVAL_APP_TOKEN,
    RIVAL_ID,
    UNENTITLED_ID,
    RunningServer,
)


@pytest.fixture
def client(qg: RunningServer) -> Iterator[Client]:
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as c:
        yield c


@pytest.fixture
def admin(qg: RunningServer) -> Iterator[AdminClient]:
    with AdminClient(qg.url, admin_key=ADMIN_KEY) as a:
        yield a


def stock(admin: AdminClient) -> None:
    """A catalogue of each kind (Meta's example skus), and one item in the rival app's catalogue."""
    admin.create_item(APP_ID, "EXAMPLE1", "DURABLE", "Sword", description="A sharp sword", price=299)
    admin.create_item(APP_ID, "gems_100", "CONSUMABLE", "100 gems", price=99)
    admin.create_item(APP_ID, "subs-bronze", "SUBSCRIPTION", "Bronze", price=199, subscription_term="MONTHLY",
                      trial_type="FREE_TRIAL", trial_term="WEEKLY")
    admin.create_item(APP_ID, "subs-gold", "SUBSCRIPTION", "Gold", price=1999, subscription_term="ANNUAL",
                      trial_type="INTRO_OFFER", trial_term="MONTHLY", trial_max_term_count=3, trial_price=99)
    admin.create_item(RIVAL_APP_ID, "rival_only", "CONSUMABLE", "Rival gem", price=10)


def test_admin_catalogue_grants_and_history(admin: AdminClient) -> None:
    """The admin calls of commerce: catalogue by sku, typed rows, grants and the history (with refund data)."""
    stock(admin)
    items = admin.items(APP_ID)
    assert [i.sku for i in items] == ["EXAMPLE1", "gems_100", "subs-bronze", "subs-gold"]
    gold = items[3]
    assert (gold.type, gold.price, gold.currency, gold.trial_type, gold.trial_max_term_count, gold.trial_price) == (
        "SUBSCRIPTION", 1999, "USD", "INTRO_OFFER", 3, 99)
    sword = admin.grant_item(ADA_ID, "EXAMPLE1")
    assert sword.kind == "purchase" and sword.owned and sword.sku == "EXAMPLE1"
    sub = admin.grant_item(ADA_ID, "subs-bronze")
    assert sub.kind == "subscription" and sub.is_trial and sub.is_active and sub.period_end_time is not None
    assert sub.period_start_time is not None and sub.period_end_time - sub.period_start_time == timedelta(days=7)
    with pytest.raises(InvalidParameter, match="already owns"):
        admin.grant_item(ADA_ID, "EXAMPLE1")
    with pytest.raises(InvalidParameter, match="already"):
        admin.create_item(APP_ID, "EXAMPLE1", "DURABLE", "Again")
    assert sorted((r.kind, r.sku) for r in admin.purchases(ADA_ID)) == [("purchase", "EXAMPLE1"),
                                                                        ("subscription", "subs-bronze")]


def test_verify_consume_refund_and_viewer_purchases(client: Client, admin: AdminClient) -> None:
    """D27/D28: verify without sku is the app entitlement, with sku the item; "no" is Entitlement(False)
    (D8); consume works once; refund makes it not owned; viewer_purchases pages with nested item fields."""
    stock(admin)
    app = client.entitlements.verify(ADA_ID)
    assert app and app.grant_time is not None and app.grant_time > 0
    assert client.entitlements.verify(UNENTITLED_ID) == Entitlement(False)
    assert not client.entitlements.verify(ADA_ID, sku="EXAMPLE1")
    assert client.entitlements.verify(ADA_ID, sku="no_such_sku") == Entitlement(False)  # D28
    admin.grant_item(ADA_ID, "EXAMPLE1")
    admin.grant_item(ADA_ID, "gems_100")
    admin.grant_item(ADA_ID, "subs-gold")
    owned = client.entitlements.verify(int(ADA_ID), sku="EXAMPLE1")
    assert owned.success and owned.grant_time
    rows = {r.item.sku: r for r in client.entitlements.viewer_purchases(ADA_ID, limit=1) if r.item}
    assert sorted(rows) == ["EXAMPLE1", "gems_100", "subs-gold"]  # one page per row, none twice (D21)
    sword = rows["EXAMPLE1"]
    assert sword.expiration_time == 0 and sword.item is not None and sword.item.current_offer is not None
    assert sword.item.current_offer.price == Price("USD", 299, "$2.99") and sword.item.billing_plans == []
    gold = rows["subs-gold"].item
    assert gold is not None and gold.billing_plans is not None
    plan = gold.billing_plans[0]
    assert plan.paid_offer is not None and plan.paid_offer.subscription_term == "ANNUAL"
    assert [(t.trial_type, t.max_term_count, t.price.amount_in_hundredths if t.price else None)
            for t in plan.trial_offers] == [("INTRO_OFFER", 3, 99)]
    thin = client.entitlements.viewer_purchases_page(ADA_ID, fields=["item"], item_fields=["sku"], limit=2)
    first = thin.data[0].item
    assert thin.has_next and thin.data[0].grant_time is None and first == IapItem(
        id=first.id if first else "", sku=first.sku if first else None) and first.sku in rows
    # Consume exactly once (D28); a durable sku is a 400.
    assert client.entitlements.consume("gems_100", ADA_ID) is True
    assert client.entitlements.consume("gems_100", ADA_ID) is False
    with pytest.raises(InvalidParameter):
        client.entitlements.consume("EXAMPLE1", ADA_ID)
    client.entitlements.refund("EXAMPLE1", ADA_ID, reason="customer_support")
    assert not client.entitlements.verify(ADA_ID, sku="EXAMPLE1")
    with pytest.raises(InvalidParameter):
        client.entitlements.refund("EXAMPLE1", ADA_ID, reason="again")
    history = {r.sku: r for r in admin.purchases(ADA_ID)}
    assert history["EXAMPLE1"].refund_reason == "customer_support" and history["gems_100"].consumed_at
    # With a user token: no user_id, its own purchases; refund needs an app token (403).
    ada = client.as_user(ADA_TOKEN).entitlements
    assert ada.verify(sku="subs-gold") and [p.item.sku for p in ada.viewer_purchases() if p.item] == ["subs-gold"]
    with pytest.raises(PermissionDenied):
        ada.refund("subs-gold", ADA_ID, reason="x")
    with pytest.raises(InvalidParameter):
        client.entitlements.verify()  # an app token needs user_id (D27)


def test_available_purchases_app_and_user_views(client: Client, admin: AdminClient) -> None:
    """§3.4: the whole catalogue by sku for the app; what a user can still buy for a user token."""
    stock(admin)
    catalogue = list(client.entitlements.available_purchases(limit=3))
    assert [i.sku for i in catalogue] == ["EXAMPLE1", "gems_100", "subs-bronze", "subs-gold"]
    bronze = catalogue[2]
    assert bronze.billing_plans and bronze.billing_plans[0].trial_offers[0].trial_type == "FREE_TRIAL"
    assert bronze.billing_plans[0].trial_offers[0].max_term_count is None  # intro offers only
    assert bronze.current_offer is not None and bronze.current_offer.name == "Bronze"
    admin.grant_item(GRACE_ID, "EXAMPLE1")
    buyable = [i.sku for i in client.as_user(GRACE_TOKEN).entitlements.available_purchases(fields=["sku"])]
    assert buyable == ["gems_100", "subs-bronze", "subs-gold"]
    page = client.entitlements.available_purchases_page(fields=["id"], limit=2)
    assert page.has_next and all(i.sku is None for i in page.data)
    assert len(client.entitlements.available_purchases_page(limit=2, after=page.after).data) == 2


def test_subscriptions_status_cancel_extend_and_clock(client: Client, admin: AdminClient) -> None:
    """§6: status with filters and owner fields, cancel (idempotent), extend moves the period end by whole
    days, moving the emulator clock (D36) ends the trial; a user token sees only its own."""
    stock(admin)
    admin.grant_item(ADA_ID, "subs-bronze")
    admin.grant_item(GRACE_ID, "subs-gold", trial=False)
    every = {s.sku: s for s in client.subscriptions.status(limit=1)}
    assert {sku: s.owner.alias if s.owner else None for sku, s in every.items()} == {"subs-bronze": "ada",
                                                                                    "subs-gold": "grace"}
    bronze = every["subs-bronze"]
    assert bronze.is_active and bronze.is_trial and bronze.trial_type == "FREE_TRIAL"
    assert bronze.current_price_term is not None and bronze.current_price_term.price == "0.00"
    assert bronze.next_price_term is not None and bronze.next_price_term.price == "1.99"
    assert bronze.next_renewal_time == bronze.period_end_time and bronze.cancellation_time is None
    assert [s.sku for s in client.subscriptions.status(is_trial=False)] == ["subs-gold"]
    assert [s.owner.id for s in client.subscriptions.status(owner_id=GRACE_ID) if s.owner] == [GRACE_ID]
    assert [s.sku for s in client.subscriptions.status(skus=["subs-gold", "x"])] == ["subs-gold"]
    thin = client.subscriptions.status_page(fields=["sku", "owner"], owner_fields=["alias"])
    owner = thin.data[0].owner
    assert thin.data[0].is_active is None and owner is not None and owner.alias and owner.display_name is None
    client.subscriptions.extend("subs-bronze", 3, owner_id=ADA_ID)
    extended = next(client.subscriptions.status(owner_id=ADA_ID))
    assert bronze.period_end_time and extended.period_end_time == bronze.period_end_time + timedelta(days=3)
    client.subscriptions.cancel("subs-bronze", owner_alias="ada", cancel_reason=2)
    client.subscriptions.cancel("subs-bronze", owner_id=ADA_ID)  # again: changes nothing (§6.2)
    cancelled = next(client.subscriptions.status(owner_id=ADA_ID))
    assert cancelled.cancellation_time is not None and cancelled.next_renewal_time is None
    assert [r.cancel_reason for r in admin.purchases(ADA_ID)] == [2]
    admin.advance_clock(11 * 86_400)  # past the extended trial: the cancelled subscription lapses
    assert [s.sku for s in client.subscriptions.status(is_active=False)] == ["subs-bronze"]
    with pytest.raises(InvalidParameter):
        client.subscriptions.extend("subs-bronze", 1, owner_id=ADA_ID)  # no longer active
    with pytest.raises(InvalidParameter):
        client.subscriptions.extend("subs-gold", 400, owner_id=GRACE_ID)
    grace = client.as_user(GRACE_TOKEN).subscriptions
    assert [s.sku for s in grace.status()] == ["subs-gold"]
    with pytest.raises(PermissionDenied):
        grace.cancel("subs-gold", owner_id=GRACE_ID)
    with pytest.raises(ValueError):
        client.subscriptions.cancel("subs-gold")


def test_another_app_sees_none_of_our_commerce(client: Client, admin: AdminClient, qg: RunningServer) -> None:
    """App isolation: the rival app cannot verify, consume, list or refund our users' items, nor use our app id."""
    stock(admin)
    admin.grant_item(ADA_ID, "gems_100")
    admin.grant_item(ADA_ID, "subs-bronze")
    admin.grant_item(RIVAL_ID, "rival_only")
    with Client(access_token=RIVAL_APP_TOKEN, base_url=qg.url) as rival:
        assert [i.sku for i in rival.entitlements.available_purchases()] == ["rival_only"]
        assert [s.owner.id for s in rival.subscriptions.status() if s.owner] == []
        with pytest.raises(InvalidParameter):
            rival.entitlements.verify(ADA_ID, sku="gems_100")  # not a user of its app
        with pytest.raises(InvalidParameter):
            rival.entitlements.consume("gems_100", ADA_ID)
        with pytest.raises(InvalidParameter):
            rival.subscriptions.cancel("subs-bronze", owner_id=ADA_ID)
        assert rival.entitlements.consume("rival_only", RIVAL_ID) is True
    with Client(access_token=RIVAL_APP_TOKEN, app_id=APP_ID, base_url=qg.url) as wrong_path:
        with pytest.raises(PermissionDenied):
            wrong_path.entitlements.verify(RIVAL_ID)  # another app's id in the path (D27, D7)
        with pytest.raises(PermissionDenied):
            wrong_path.entitlements.viewer_purchases_page(ADA_ID)
    with Client(access_token=RIVAL_APP_TOKEN, app_id="999999999999999", base_url=qg.url) as unknown, \
            pytest.raises(NotFound):
        unknown.entitlements.verify(RIVAL_ID)
    assert client.entitlements.verify(ADA_ID, sku="gems_100")  # still ours, unconsumed


def test_async_commerce_every_method(qg: RunningServer) -> None:
    """The async twins of every entitlement, subscription and commerce admin method."""

    async def run() -> None:
        async with AsyncAdminClient(qg.url, admin_key=ADMIN_KEY) as admin, \
                AsyncClient(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as c:
            await admin.create_item(APP_ID, "EXAMPLE1", "DURABLE", "Sword", price=299)
            await admin.create_item(APP_ID, "gems_100", "CONSUMABLE", "Gems", price=99)
            await admin.create_item(APP_ID, "subs-bronze", "SUBSCRIPTION", "Bronze", price=199,
                                    subscription_term="MONTHLY")
            assert [i.sku for i in await admin.items(APP_ID)] == ["EXAMPLE1", "gems_100", "subs-bronze"]
            await admin.grant_item(ADA_ID, "EXAMPLE1")
            await admin.grant_item(ADA_ID, "gems_100")
            assert (await admin.grant_item(ADA_ID, "subs-bronze")).is_trial is False
            ent = c.entitlements
            assert await ent.verify(ADA_ID) and await ent.verify(ADA_ID, sku="EXAMPLE1")
            assert not await ent.verify(GRACE_ID, sku="EXAMPLE1")
            assert sorted([p.item.sku async for p in ent.viewer_purchases(ADA_ID, limit=1) if p.item]) == [
                "EXAMPLE1", "gems_100", "subs-bronze"]
            assert len((await ent.viewer_purchases_page(ADA_ID, limit=2)).data) == 2
            assert [i.sku async for i in ent.available_purchases(limit=2)] == ["EXAMPLE1", "gems_100", "subs-bronze"]
            assert (await ent.available_purchases_page(fields=["sku"])).data[0].sku == "EXAMPLE1"
            assert await ent.consume("gems_100", ADA_ID) is True and await ent.consume("gems_100", ADA_ID) is False
            await ent.refund("EXAMPLE1", ADA_ID, reason="other")
            assert not await ent.verify(ADA_ID, sku="EXAMPLE1")
            subs = c.subscriptions
            before = (await subs.status_page(owner_id=ADA_ID)).data[0]
            assert [s.sku async for s in subs.status(owner_id=ADA_ID)] == ["subs-bronze"]
            await subs.extend("subs-bronze", 10, owner_id=ADA_ID)
            after = (await subs.status_page(owner_id=ADA_ID)).data[0]
            assert before.period_end_time and after.period_end_time == before.period_end_time + timedelta(days=10)
            await subs.cancel("subs-bronze", owner_id=ADA_ID)
            assert (await subs.status_page(is_active=True)).data[0].cancellation_time is not None
            assert len(await admin.purchases(ADA_ID)) == 3
            with pytest.raises(InvalidParameter):
                await ent.consume("EXAMPLE1", UNENTITLED_ID)

    asyncio.run(run())
