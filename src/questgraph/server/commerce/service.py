"""Entitlements, in-app purchases and subscriptions (graph-api.md §3, §6; D27–D29, D36), free of HTTP.

Ownership is always computed from the history and the server clock: a grant is owned while it is neither
consumed, refunded nor expired (D28); a subscription's current period, trial and activity are derived
lazily from its stored schedule and ``clock.now()`` (D36), so moving the emulator clock renews or lapses
it with no background job. Writes (cancel, extend) first materialise the schedule as of now.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from questgraph.server.auth.access import require_app_token, require_path_app
from questgraph.server.auth.callers import AppCaller, Caller, UserCaller
from questgraph.server.clock import Clock
from questgraph.server.commerce.records import IapItem, Purchase, Subscription
from questgraph.server.commerce.store import CommerceStore
from questgraph.server.commerce.terms import DAY, TERMS, TRIAL_TYPES, add_terms, term_seconds_hint
from questgraph.server.db import Database
from questgraph.server.errors import InvalidParameter
from questgraph.server.graph.cursors import CursorKey
from questgraph.server.graph.params import parse_id
from questgraph.server.identity.records import User
from questgraph.server.identity.service import IdentityService
from questgraph.server.identity.store import IdentityStore

DURABLE, CONSUMABLE, SUBSCRIPTION = "DURABLE", "CONSUMABLE", "SUBSCRIPTION"
ITEM_TYPES = (DURABLE, CONSUMABLE, SUBSCRIPTION)
SKU = re.compile(r"[A-Za-z0-9_.\-]{1,128}")  # D29; ":" is kept for the "{SKU}:SUBSCRIPTION__{TERM}" form
CURRENCY = re.compile(r"[A-Z]{3}")
MAX_PRICE = 100_000_000  # hundredths: a million units of any currency
MAX_NAME, MAX_DESCRIPTION, MAX_REASON = 256, 4096, 256
MAX_TRIAL_TERMS = 24
CANCEL_REASONS = range(0, 6)  # §6.2: 0 Other/Testing … 5 Technical issues
MAX_EXTENSION_DAYS, MAX_TOTAL_EXTENSION_DAYS = 365, 3650  # §0.8: 1–365 per call, at most 10 years
T = TypeVar("T")


@dataclass(frozen=True)
class ItemSpec:
    """A catalogue item as the admin API or a world file declares it (checked by ``check_item``)."""

    sku: str
    item_type: str
    name: str
    description: str = ""
    price_hundredths: int = 0
    currency: str = "USD"
    subscription_term: str | None = None
    trial_type: str | None = None
    trial_term: str | None = None
    trial_max_term_count: int | None = None
    trial_price_hundredths: int | None = None


def check_item(spec: ItemSpec) -> ItemSpec:
    """The item with its defaults filled in, or InvalidParameter naming the field at fault (D29)."""
    sku = spec.sku.strip()
    if not SKU.fullmatch(sku):
        raise InvalidParameter("Param sku must be 1 to 128 characters of letters, digits, _ . -")
    if spec.item_type not in ITEM_TYPES:
        raise InvalidParameter(f"Param type must be one of {{{', '.join(ITEM_TYPES)}}}")
    name = spec.name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidParameter(f"Param name must be 1 to {MAX_NAME} characters long")
    if len(spec.description) > MAX_DESCRIPTION:
        raise InvalidParameter(f"Param description must be at most {MAX_DESCRIPTION} characters long")
    if not 0 <= spec.price_hundredths <= MAX_PRICE:
        raise InvalidParameter(f"Param price must be between 0 and {MAX_PRICE} (hundredths of the currency)")
    if not CURRENCY.fullmatch(spec.currency):
        raise InvalidParameter("Param currency must be a three-letter ISO 4217 code in capitals, e.g. USD")
    subscription_fields = (spec.subscription_term, spec.trial_type, spec.trial_term, spec.trial_max_term_count,
                           spec.trial_price_hundredths)
    if spec.item_type != SUBSCRIPTION:
        if any(v is not None for v in subscription_fields):
            raise InvalidParameter("Params subscription_term and trial_* apply only to SUBSCRIPTION items")
        return replace(spec, sku=sku, name=name)
    if spec.subscription_term not in TERMS:
        raise InvalidParameter(f"Param subscription_term must be one of {{{', '.join(TERMS)}}} for a SUBSCRIPTION")
    trial_fields = subscription_fields[2:]
    if spec.trial_type is None:
        if any(v is not None for v in trial_fields):
            raise InvalidParameter("Params trial_term, trial_max_term_count and trial_price need trial_type")
        return replace(spec, sku=sku, name=name)
    if spec.trial_type not in TRIAL_TYPES:
        raise InvalidParameter(f"Param trial_type must be one of {{{', '.join(TRIAL_TYPES)}}}")
    if spec.trial_term not in TERMS:
        raise InvalidParameter(f"Param trial_term must be one of {{{', '.join(TERMS)}}}")
    count = 1 if spec.trial_max_term_count is None else spec.trial_max_term_count
    price = 0 if spec.trial_price_hundredths is None else spec.trial_price_hundredths
    if spec.trial_type == "FREE_TRIAL":
        if count != 1 or price != 0:
            raise InvalidParameter("A FREE_TRIAL is one free term: trial_max_term_count 1 and trial_price 0")
    else:
        if not 1 <= count <= MAX_TRIAL_TERMS:
            raise InvalidParameter(f"Param trial_max_term_count must be between 1 and {MAX_TRIAL_TERMS}")
        if not 0 <= price <= MAX_PRICE:
            raise InvalidParameter(f"Param trial_price must be between 0 and {MAX_PRICE}")
    return replace(spec, sku=sku, name=name, trial_max_term_count=count, trial_price_hundredths=price)


@dataclass(frozen=True)
class Owned:
    """One row of ``viewer_purchases``: an owned grant or an active subscription."""

    id: int
    item: IapItem
    grant_time: int
    expiration_time: int  # 0: no expiry (§3.3)


@dataclass(frozen=True)
class SubState:
    """A subscription as of one instant (D36)."""

    sub: Subscription
    item: IapItem
    owner: User
    renewals: int
    period_start: int
    period_end: int
    is_trial: bool
    is_active: bool

    @property
    def renews(self) -> bool:
        return self.is_active and self.sub.auto_renew


@dataclass(frozen=True)
class SubscriptionQuery:
    owner_id: int | None = None
    is_active: bool | None = None
    is_trial: bool | None = None
    skus: Sequence[str] = ()


@dataclass(frozen=True)
class History:
    """A user's purchases (with their items) and subscriptions, as of ``now``."""

    user: User
    purchases: list[tuple[Purchase, IapItem]]
    subscriptions: list[SubState]
    now: int


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    first: CursorKey | None
    last: CursorKey | None
    has_previous: bool
    has_next: bool


def paginate(rows: Sequence[T], key: Callable[[T], CursorKey], limit: int,
             after: CursorKey | None, before: CursorKey | None) -> Page[T]:
    """Keyset paging over rows already sorted by ``key`` (D21); ``after`` wins over ``before``."""
    keys = [key(r) for r in rows]
    if after is not None:
        start = next((i for i, k in enumerate(keys) if k > after), len(keys))
        stop = start + limit
    elif before is not None:
        stop = next((i for i, k in enumerate(keys) if k >= before), len(keys))
        start = max(stop - limit, 0)
    else:
        start, stop = 0, limit
    chosen = list(rows[start:stop])
    chosen_keys = keys[start:stop]
    return Page(chosen, chosen_keys[0] if chosen_keys else None, chosen_keys[-1] if chosen_keys else None,
                start > 0 and bool(chosen), start + len(chosen) < len(rows))


class CommerceService:
    def __init__(self, db: Database, store: CommerceStore, identity_store: IdentityStore, clock: Clock,
                 identity: IdentityService) -> None:
        self.db = db
        self.store = store
        self.identity_store = identity_store
        self.clock = clock
        self.identity = identity

    # --- who and which app (D7, D27) ---------------------------------------------------------------
    def app_of_path(self, caller: Caller, app_id: int | None) -> None:
        require_path_app(self.identity_store, caller, app_id)

    def target_user(self, caller: Caller, user_id: str | None, key: str = "user_id") -> User:
        """D27: required with an app token (a user of its app); absent or the token's own user with a user
        token."""
        given = None if user_id is None or not user_id.strip() else parse_id(key, user_id)
        if isinstance(caller, UserCaller):
            if given is not None and given != caller.user.id:
                raise InvalidParameter(f"Param {key} must be absent or the token's own user with a user access token")
            return caller.user
        if given is None:
            raise InvalidParameter(f"The parameter {key} is required when using an app access token")
        return self._user_of_app(caller.app.id, given, key)

    def _user_of_app(self, app_id: int, user_id: int, key: str) -> User:
        user = self.identity_store.get_user(user_id)
        if user is None or user.app_id != app_id:  # another app's user is as unknown as no user (D7)
            raise InvalidParameter(f"Parameter {key}: invalid user id: {user_id}")
        return user

    def owner(self, caller: AppCaller, owner_id: str | None, owner_alias: str | None) -> User:
        """§6.2/§6.3: ``owner_id`` or ``owner_alias`` (one required; both must then name the same user)."""
        by_id = None if owner_id is None or not owner_id.strip() else \
            self._user_of_app(caller.app.id, parse_id("owner_id", owner_id), "owner_id")
        by_alias = None
        if owner_alias is not None and owner_alias.strip():
            person = self.identity_store.find_person_by_alias(owner_alias.strip())
            found = None if person is None else self.identity_store.find_app_user(caller.app.id, person)
            if found is None:
                raise InvalidParameter(f"Param owner_alias: no user of this app has the alias {owner_alias[:64]!r}")
            by_alias = found
        if by_id is None and by_alias is None:
            raise InvalidParameter("The parameter owner_id or owner_alias is required")
        if by_id is not None and by_alias is not None and by_id.id != by_alias.id:
            raise InvalidParameter("Params owner_id and owner_alias name different users")
        user = by_id or by_alias
        assert user is not None
        return user

    # --- catalogue (control plane) -----------------------------------------------------------------
    def create_item(self, app_id: int, spec: ItemSpec) -> IapItem:
        self.identity.app(app_id)
        spec = check_item(spec)
        if self.store.find_iap_item(app_id, spec.sku) is not None:
            raise InvalidParameter(f"Param sku {spec.sku!r} is already in this app's catalogue")
        with self.db.transaction():
            item = IapItem(
                self.identity.claim_id("iap_item"), app_id, spec.sku, spec.item_type, spec.name, spec.description,
                spec.price_hundredths, spec.currency, self.identity.claim_id("iap_offer"), spec.subscription_term,
                spec.trial_type, spec.trial_term, spec.trial_max_term_count, spec.trial_price_hundredths,
                self.identity.claim_id("iap_offer") if spec.trial_type else None, self.clock.now(),
            )
            self.store.insert_iap_item(item)
        return item

    def catalogue(self, app_id: int) -> list[IapItem]:
        return self.store.list_iap_items(self.identity.app(app_id).id)

    def item(self, app_id: int, sku: str) -> IapItem:
        item = self.store.find_iap_item(app_id, sku.strip())
        if item is None:
            raise InvalidParameter(f"Param sku: no item {sku.strip()[:128]!r} in this app's catalogue")
        return item

    # --- grants (control plane) --------------------------------------------------------------------
    def grant(self, user_id: int, sku: str, *, expires_at: int | None = None,
              trial: bool | None = None, granted_at: int | None = None) -> Purchase | Subscription:
        """Give a user an item, as a purchase on the headset would, now or at ``granted_at`` (Unix seconds,
        not after now on the server clock: a purchase made earlier). An item the user still owns (or an
        active subscription) cannot be granted again until it is consumed, refunded, expired or lapsed."""
        user = self.identity.user(user_id)
        item = self.item(user.app_id, sku)
        now = self.clock.now()
        if granted_at is not None and not 0 <= granted_at <= now:
            raise InvalidParameter(f"Param granted_at must be a time in the past or now (Unix seconds, server "
                                   f"clock: now is {now})")
        at = now if granted_at is None else granted_at
        with self.db.transaction():
            if item.item_type == SUBSCRIPTION:
                if expires_at is not None:
                    raise InvalidParameter("Param expires_at does not apply to a SUBSCRIPTION (its term does)")
                return self._subscribe(user, item, trial, now, at)
            if trial is not None:
                raise InvalidParameter("Param trial applies only to a SUBSCRIPTION")
            if expires_at is not None and expires_at <= now:
                raise InvalidParameter("Param expires_at must be in the future (Unix seconds, server clock)")
            if any(p.item_id == item.id and p.owned_at(now) for p in self.store.purchases_of_user(user.id)):
                raise InvalidParameter(f"User {user.id} already owns {item.sku!r}: consume or refund it first")
            purchase = Purchase(self.identity.claim_id("purchase"), user.app_id, user.id, item.id, at, expires_at,
                                None, None, None)
            self.store.insert_purchase(purchase)
            return purchase

    def _subscribe(self, user: User, item: IapItem, trial: bool | None, now: int, start: int) -> Subscription:
        """A subscription that started at ``start`` (now, or earlier): its periods since then are derived."""
        assert item.subscription_term is not None
        earlier = [s for s in self.store.subscriptions_of_user(user.id) if s.item_id == item.id]
        if any(self._state(s, item, user, now).is_active for s in earlier):
            raise InvalidParameter(f"User {user.id} already has an active subscription to {item.sku!r}")
        # A trial is offered once per user and item, as stores do; the default takes it when it is offered.
        if trial and item.trial_type is None:
            raise InvalidParameter(f"Param trial: {item.sku!r} has no trial offer")
        if trial and earlier:
            raise InvalidParameter(f"Param trial: user {user.id} already had a subscription to {item.sku!r}")
        with_trial = item.trial_type is not None and not earlier if trial is None else trial
        if with_trial:
            assert item.trial_term is not None and item.trial_max_term_count is not None
            anchor, renewals = add_terms(start, item.trial_term, item.trial_max_term_count), 0
        else:
            anchor, renewals = start, 1
        sub = Subscription(self.identity.claim_id("subscription"), user.app_id, user.id, item.id, start, start,
                           anchor, renewals, with_trial, True, None, None, 0)
        self.store.insert_subscription(sub)
        return sub

    def history(self, user_id: int) -> History:
        """Every grant of the user, consumed and refunded ones included, and every subscription."""
        user = self.identity.user(user_id)
        items = {i.id: i for i in self.store.list_iap_items(user.app_id)}
        now = self.clock.now()
        purchases = [(p, items[p.item_id]) for p in self.store.purchases_of_user(user.id)]
        subs = [self._state(s, items[s.item_id], user, now) for s in self.store.subscriptions_of_user(user.id)]
        return History(user, purchases, subs, now)

    # --- §3.1 verify, §3.2 consume ------------------------------------------------------------------
    def verify(self, caller: Caller, app_id: int | None, user_id: str | None, sku: str | None) -> int | None:
        """The grant time when the user owns the app (no sku, D27) or the item; None otherwise (D28)."""
        self.app_of_path(caller, app_id)
        user = self.target_user(caller, user_id)
        if sku is None or not sku.strip():
            return self.identity_store.base_entitlement_time(user.id, caller.app.id)
        item = self.store.find_iap_item(caller.app.id, sku.strip())
        if item is None:
            return None  # an unknown sku is simply not owned (D8: a "no" stays a 200)
        now = self.clock.now()
        if item.item_type == SUBSCRIPTION:
            states = [self._state(s, item, user, now) for s in self.store.subscriptions_of_user(user.id)
                      if s.item_id == item.id]
            active = [s for s in states if s.is_active]
            return active[-1].sub.started_at if active else None
        owned = self._owned_purchase(user, item, now)
        return None if owned is None else owned.granted_at

    def consume(self, caller: Caller, app_id: int | None, user_id: str | None, sku: str) -> bool:
        """D28: an owned consumable is consumed (True) exactly once; not owned is False; a durable or a
        subscription is a 400."""
        self.app_of_path(caller, app_id)
        user = self.target_user(caller, user_id)
        item = self.store.find_iap_item(caller.app.id, sku.strip())
        if item is None:
            return False
        if item.item_type != CONSUMABLE:
            raise InvalidParameter(f"Param sku: {item.sku!r} is a {item.item_type} item; only CONSUMABLE items "
                                   "can be consumed")
        now = self.clock.now()
        # The conditional update decides: of two racing consumes of one grant, exactly one changes the
        # row. The loser reads again: with several processes another grant may still be owned.
        while (owned := self._owned_purchase(user, item, now)) is not None:
            if self.store.mark_consumed(owned.id, now):
                return True
        return False

    def _owned_purchase(self, user: User, item: IapItem, now: int) -> Purchase | None:
        owned = [p for p in self.store.purchases_of_user(user.id) if p.item_id == item.id and p.owned_at(now)]
        return owned[0] if owned else None

    # --- §3.3 viewer_purchases ----------------------------------------------------------------------
    def viewer_purchases(self, caller: Caller, app_id: int, user_id: str | None) -> list[Owned]:
        """What the user owns now, oldest grant first: unconsumed, unrefunded, unexpired grants and active
        subscriptions (expiration_time = the end of the current period)."""
        self.app_of_path(caller, app_id)
        user = self.target_user(caller, user_id)
        items = {i.id: i for i in self.store.list_iap_items(caller.app.id)}
        now = self.clock.now()
        rows = [Owned(p.id, items[p.item_id], p.granted_at, p.expires_at or 0)
                for p in self.store.purchases_of_user(user.id) if p.owned_at(now)]
        for sub in self.store.subscriptions_of_user(user.id):
            state = self._state(sub, items[sub.item_id], user, now)
            if state.is_active:
                rows.append(Owned(sub.id, state.item, sub.started_at, state.period_end))
        return sorted(rows, key=lambda r: (r.grant_time, r.id))

    # --- §3.4 available_purchases -------------------------------------------------------------------
    def available(self, caller: Caller) -> list[IapItem]:
        """App token: the whole catalogue. User token: what that user can buy now (not what they own)."""
        items = self.store.list_iap_items(caller.app.id)  # by sku, the catalogue's order
        if isinstance(caller, AppCaller):
            return items
        owned = {row.item.id for row in self.viewer_purchases(caller, caller.app.id, None)}
        return [i for i in items if i.id not in owned]

    # --- §3.5 refund --------------------------------------------------------------------------------
    def refund(self, caller: Caller, app_id: int, user_id: str | None, sku: str, reason: str) -> None:
        """Only DURABLE items, or CONSUMABLE items not yet consumed, that the user owns (§3.5)."""
        self.app_of_path(caller, app_id)
        require_app_token(caller, "Refunding an in-app purchase")
        user = self.target_user(caller, user_id)
        reason = reason.strip()
        if len(reason) > MAX_REASON:
            raise InvalidParameter(f"Param reason must be at most {MAX_REASON} characters long")
        item = self.item(caller.app.id, sku)
        if item.item_type == SUBSCRIPTION:
            raise InvalidParameter(f"Param sku: {item.sku!r} is a SUBSCRIPTION; only DURABLE items and unconsumed "
                                   "CONSUMABLE items can be refunded")
        now = self.clock.now()
        owned = self._owned_purchase(user, item, now)
        if owned is None or not self.store.mark_refunded(owned.id, now, reason):
            grants = [p for p in self.store.purchases_of_user(user.id) if p.item_id == item.id]
            if grants and grants[-1].consumed_at is not None:
                raise InvalidParameter(f"Param sku: {item.sku!r} was already consumed; a consumed item cannot be "
                                       "refunded")
            raise InvalidParameter(f"Param sku: user {user.id} does not own {item.sku!r}")

    # --- §6 subscriptions ---------------------------------------------------------------------------
    def _state(self, sub: Subscription, item: IapItem, owner: User, now: int) -> SubState:
        """The subscription as of ``now``: renewals happen lazily while auto-renew is on (D36)."""
        term = item.subscription_term
        assert term is not None
        renewals = sub.renewals
        if sub.auto_renew and now >= sub.anchor:
            # Every term is at most 31 days a month, so this many periods have surely ended: skip them.
            longest = term_seconds_hint(term) * 31 // 28
            renewals = max(renewals, (now - sub.anchor) // longest)
            while add_terms(sub.anchor, term, renewals) <= now:
                renewals += 1
        end = add_terms(sub.anchor, term, renewals)
        start = sub.period_start0 if renewals == 0 else add_terms(sub.anchor, term, renewals - 1)
        return SubState(sub, item, owner, renewals, start, end, renewals == 0 and sub.trial_at_zero,
                        sub.started_at <= now < end)

    def subscriptions(self, caller: Caller, query: SubscriptionQuery) -> list[SubState]:
        """§6.1: app token → every user's (optionally one owner's); user token → the user's own."""
        if isinstance(caller, UserCaller):
            if query.owner_id is not None:
                raise InvalidParameter("Param owner_id can only be used with an app access token")
            subs = self.store.subscriptions_of_user(caller.user.id)
        elif query.owner_id is not None:
            subs = self.store.subscriptions_of_user(self._user_of_app(caller.app.id, query.owner_id,
                                                                      "owner_id").id)
        else:
            subs = self.store.subscriptions_of_app(caller.app.id)
        items = {i.id: i for i in self.store.list_iap_items(caller.app.id)}
        users = self.identity_store.get_users({s.user_id for s in subs})
        now = self.clock.now()
        states = [self._state(s, items[s.item_id], users[s.user_id], now) for s in subs]
        skus = set(query.skus)
        return [s for s in states
                if (query.is_active is None or s.is_active == query.is_active)
                and (query.is_trial is None or s.is_trial == query.is_trial)
                and (not skus or s.item.sku in skus)]

    def _active_subscription(self, owner: User, sku: str) -> SubState:
        item = self.store.find_iap_item(owner.app_id, sku.strip())
        now = self.clock.now()
        if item is not None and item.item_type == SUBSCRIPTION:
            for sub in reversed(self.store.subscriptions_of_user(owner.id)):
                if sub.item_id == item.id:
                    state = self._state(sub, item, owner, now)
                    if state.is_active:
                        return state
        raise InvalidParameter(f"Param sku: user {owner.id} has no active subscription {sku.strip()[:128]!r}")

    def _write(self, state: SubState, changed: Subscription) -> None:
        if not self.store.update_subscription(changed, state.sub.renewals, state.sub.anchor):
            raise InvalidParameter("The subscription changed during this call; retry")

    def cancel(self, caller: Caller, owner_id: str | None, owner_alias: str | None, sku: str,
               reason: int) -> None:
        """§6.2: turn auto-renew off; access lasts to the period end. Cancelling again changes nothing."""
        app = require_app_token(caller, "Cancelling a subscription")
        owner = self.owner(app, owner_id, owner_alias)
        if reason not in CANCEL_REASONS:
            raise InvalidParameter("Param cancel_reason must be an integer from 0 to 5")
        state = self._active_subscription(owner, sku)
        if not state.sub.auto_renew:
            return  # the API cannot undo a cancellation, and a repeat keeps the first one's time and reason
        self._write(state, replace(state.sub, renewals=state.renewals, auto_renew=False,
                                   cancelled_at=self.clock.now(), cancel_reason=reason))

    def extend(self, caller: Caller, owner_id: str | None, owner_alias: str | None, sku: str, days: int) -> None:
        """§6.3: push the current period's end (and so the next renewal) back by ``days``."""
        app = require_app_token(caller, "Extending a subscription")
        owner = self.owner(app, owner_id, owner_alias)
        if not 1 <= days <= MAX_EXTENSION_DAYS:
            raise InvalidParameter(f"Param number_of_days must be between 1 and {MAX_EXTENSION_DAYS}")
        state = self._active_subscription(owner, sku)
        if state.sub.extension_days + days > MAX_TOTAL_EXTENSION_DAYS:
            raise InvalidParameter(f"Param number_of_days: a subscription can be extended by at most "
                                   f"{MAX_TOTAL_EXTENSION_DAYS} days in total ({state.sub.extension_days} used)")
        # The current period becomes period 0 of a new schedule that starts where it started and ends
        # ``days`` later; later renewals follow the term from that new end.
        self._write(state, replace(state.sub, period_start0=state.period_start, anchor=state.period_end + days * DAY,
                                   renewals=0, trial_at_zero=state.is_trial,
                                   extension_days=state.sub.extension_days + days))
