"""Typed results. Ids are strings (as on the wire, D9); extra data is bytes (decoded from base64, D18).

A field the request did not select (``fields``, D5) or the server left out (a board without a time
window) is ``None``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

SortOrder = Literal["HIGHER_IS_BETTER", "LOWER_IS_BETTER"]
WritePolicy = Literal["CLIENT_AUTHORITATIVE", "SERVER_AUTHORITATIVE"]
StartAt = Literal["TOP", "OFFSET", "CENTERED_ON_VIEWER", "CENTERED_ON_VIEWER_OR_TOP"]
EntryFilter = Literal["NONE", "FRIENDS", "USER_IDS"]
AgeCategory = Literal["AD", "TN", "CH"]

# Every field the client can select, so a typo is a type error rather than a 400 at run time.
LeaderboardField = Literal["id", "api_name", "sort_order", "entry_write_policy", "entry_count",
                           "earliest_allowed_entry_time", "latest_allowed_entry_time", "title", "title_locale_map"]
EntryField = Literal["id", "user", "rank", "score", "timestamp", "extra_data_base64"]
UserField = Literal["id", "alias", "display_name", "profile_url"]

LEADERBOARD_FIELDS: tuple[LeaderboardField, ...] = (
    "id", "api_name", "sort_order", "entry_write_policy", "entry_count", "earliest_allowed_entry_time",
    "latest_allowed_entry_time", "title", "title_locale_map")
ENTRY_FIELDS: tuple[EntryField, ...] = ("id", "user", "rank", "score", "timestamp", "extra_data_base64")
USER_FIELDS: tuple[UserField, ...] = ("id", "alias", "display_name", "profile_url")


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class User:
    """A user as the Graph API shows them (app-scoped ``id``)."""

    id: str
    alias: str | None = None
    display_name: str | None = None
    profile_url: str | None = None
    org_scoped_id: str | None = None  # GET /{user_id} only
    # Old Meta docs' fields (D10), filled only when asked for by name: questgraph answers "", "OFFLINE" and
    # the profile_url.
    presence: str | None = None
    presence_status: str | None = None
    profile_url_small: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> User:
        org = data.get("org_scoped_id")
        return cls(id=str(data["id"]), alias=data.get("alias"), display_name=data.get("display_name"),
                   profile_url=data.get("profile_url"), org_scoped_id=None if org is None else str(org),
                   presence=data.get("presence"), presence_status=data.get("presence_status"),
                   profile_url_small=data.get("profile_url_small"))


@dataclass(frozen=True)
class Leaderboard:
    """A leaderboard's metadata (graph-api.md §1.3)."""

    id: str
    api_name: str | None = None
    sort_order: str | None = None
    entry_write_policy: str | None = None
    entry_count: int | None = None
    earliest_allowed_entry_time: int | None = None
    latest_allowed_entry_time: int | None = None
    title: str | None = None
    title_locale_map: dict[str, str] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Leaderboard:
        return cls(
            id=str(data["id"]), api_name=data.get("api_name"), sort_order=data.get("sort_order"),
            entry_write_policy=data.get("entry_write_policy"), entry_count=_opt_int(data.get("entry_count")),
            earliest_allowed_entry_time=_opt_int(data.get("earliest_allowed_entry_time")),
            latest_allowed_entry_time=_opt_int(data.get("latest_allowed_entry_time")),
            title=data.get("title"), title_locale_map=data.get("title_locale_map"),
        )


@dataclass(frozen=True)
class LeaderboardEntry:
    """One ranked entry (graph-api.md §1.4). ``id`` is the entry id that ``delete_entry`` takes."""

    id: str
    user: User | None = None
    rank: int | None = None
    score: int | None = None
    timestamp: int | None = None
    extra_data: bytes | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LeaderboardEntry:
        user = data.get("user")
        extra = data.get("extra_data_base64")
        return cls(
            id=str(data["id"]), user=User.from_json(user) if isinstance(user, dict) else None,
            rank=_opt_int(data.get("rank")), score=_opt_int(data.get("score")),
            timestamp=_opt_int(data.get("timestamp")), extra_data=None if extra is None else decode_base64(extra),
        )


@dataclass(frozen=True)
class EntriesPage:
    """One page of ``leaderboard_entries``: rows, the optional total, and the keyset cursors (D21)."""

    entries: list[LeaderboardEntry]
    total_count: int | None = None
    before: str | None = None  # cursor of the first row
    after: str | None = None  # cursor of the last row
    has_next: bool = False
    has_previous: bool = False
    next_url: str | None = field(default=None, repr=False)  # embeds the access token: kept out of repr

    @property
    def data(self) -> list[LeaderboardEntry]:
        """``entries``, under the name the rows of every other page have (the wire's ``data``)."""
        return self.entries


@dataclass(frozen=True)
class SubmitResult:
    """The answer of ``leaderboard_submit_entry`` (D15): ``did_update`` is False for a score not better."""

    success: bool
    did_update: bool
    updated_challenge_ids: list[str]


# --- admin API (docs/config.md) ------------------------------------------------------------------------
@dataclass(frozen=True)
class AdminApp:
    """An app as the admin API shows it (never its secret)."""

    id: str
    org_id: str
    name: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AdminApp:
        return cls(id=str(data["id"]), org_id=str(data["org_id"]), name=str(data["name"]))


@dataclass(frozen=True)
class AppCredentials:
    """An app with its secret: the answer of app creation and secret rotation, shown once (D12)."""

    id: str
    org_id: str
    name: str
    secret: str = field(repr=False)
    app_access_token: str = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AppCredentials:
        return cls(id=str(data["id"]), org_id=str(data["org_id"]), name=str(data["name"]),
                   secret=str(data["secret"]), app_access_token=str(data["app_access_token"]))


@dataclass(frozen=True)
class Org:
    """An organization, with its apps and SSO redirect URIs when listed."""

    id: str
    name: str
    apps: list[AdminApp] = field(default_factory=list)
    sso_redirect_uris: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Org:
        return cls(id=str(data["id"]), name=str(data["name"]),
                   apps=[AdminApp.from_json(a) for a in data.get("apps", [])],
                   sso_redirect_uris=[str(u) for u in data.get("sso_redirect_uris", [])])


@dataclass(frozen=True)
class AdminUser:
    """A user of an app as the admin API shows it (docs/config.md)."""

    id: str
    app_id: str
    alias: str
    display_name: str
    profile_url: str
    age_category: str
    org_scoped_id: str
    entitled: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AdminUser:
        return cls(id=str(data["id"]), app_id=str(data["app_id"]), alias=str(data["alias"]),
                   display_name=str(data["display_name"]), profile_url=str(data["profile_url"]),
                   age_category=str(data["age_category"]), org_scoped_id=str(data["org_scoped_id"]),
                   entitled=bool(data["entitled"]))


@dataclass(frozen=True)
class ClockState:
    """The emulator clock (D36): ``now`` in Unix seconds, the offset from the wall clock, and whether it is
    frozen (standing still between moves)."""

    now: int
    offset_seconds: float
    frozen: bool = False


def decode_base64(value: str) -> bytes:
    """Standard or URL-safe base64, padding optional (what the server accepts, D18)."""
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("extra_data_base64 is not valid base64") from None


def encode_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


Id = int | str  # an id argument: an int or a string of digits (D9)


def id_str(value: int | str, name: str) -> str:
    """An object id for the wire: an int or a string of digits (D9), sent as a string."""
    text = str(value).strip() if isinstance(value, str) else str(value)
    if isinstance(value, bool) or not text.isdigit():
        raise ValueError(f"{name} must be a decimal id (an int or a string of digits), got {value!r}")
    return text


def opt_id(value: int | str | None, name: str) -> str | None:
    """``id_str`` of an optional id: None stays None (and so is left out of the parameters)."""
    return None if value is None else id_str(value, name)



# --- achievements, entitlements/IAP, subscriptions, account linking (graph-api.md §2, §3, §5, §6) ---------
T = TypeVar("T")

AchievementType = Literal["SIMPLE", "COUNT", "BITFIELD"]
AchievementWritePolicy = Literal["CLIENT_AUTHORITATIVE", "SERVER_AUTHORITATIVE"]
DefinitionField = Literal["id", "api_name", "achievement_type", "achievement_write_policy", "target",
                          "bitfield_length", "is_archived", "title", "description", "unlocked_description_override",
                          "is_secret", "locked_image_uri", "unlocked_image_uri", "title_locale_map",
                          "description_locale_map"]
ProgressField = Literal["id", "api_name", "target", "is_unlocked", "unlock_time", "count_progress",
                        "bitfield_progress", "definition"]
ItemField = Literal["id", "sku", "name", "description", "current_offer", "billing_plans"]
PurchaseField = Literal["id", "grant_time", "expiration_time", "item"]
SubscriptionField = Literal["id", "owner", "sku", "period_start_time", "period_end_time", "cancellation_time",
                            "next_renewal_time", "is_trial", "trial_type", "is_active", "current_price_term",
                            "next_price_term"]
ItemType = Literal["DURABLE", "CONSUMABLE", "SUBSCRIPTION"]
Term = Literal["WEEKLY", "BIWEEKLY", "MONTHLY", "QUARTERLY", "SEMIANNUAL", "ANNUAL"]
TrialType = Literal["FREE_TRIAL", "INTRO_OFFER"]

DEFINITION_FIELDS: tuple[DefinitionField, ...] = (
    "id", "api_name", "achievement_type", "achievement_write_policy", "target", "bitfield_length", "is_archived",
    "title", "description", "unlocked_description_override", "is_secret", "locked_image_uri", "unlocked_image_uri",
    "title_locale_map", "description_locale_map")
PROGRESS_FIELDS: tuple[ProgressField, ...] = (
    "id", "api_name", "target", "is_unlocked", "unlock_time", "count_progress", "bitfield_progress", "definition")
ITEM_FIELDS: tuple[ItemField, ...] = ("id", "sku", "name", "description", "current_offer", "billing_plans")
PURCHASE_FIELDS: tuple[PurchaseField, ...] = ("id", "grant_time", "expiration_time", "item")
SUBSCRIPTION_FIELDS: tuple[SubscriptionField, ...] = (
    "id", "owner", "sku", "period_start_time", "period_end_time", "cancellation_time", "next_renewal_time",
    "is_trial", "trial_type", "is_active", "current_price_term", "next_price_term")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a paged list (D21): its rows, the keyset cursors and whether more pages exist."""

    data: list[T]
    before: str | None = None  # cursor of the first row
    after: str | None = None  # cursor of the last row
    has_next: bool = False
    has_previous: bool = False
    next_url: str | None = field(default=None, repr=False)  # embeds the access token: kept out of repr


def page_parser(row: Callable[[Mapping[str, Any]], T]) -> Callable[[Any], Page[T]]:
    """The parser of a ``{"data", "paging"}`` answer whose rows ``row`` reads."""
    def parse(body: Any) -> Page[T]:
        paging = body.get("paging") or {}
        cursors = paging.get("cursors") or {}
        return Page(data=[row(r) for r in body.get("data", [])], before=cursors.get("before"),
                    after=cursors.get("after"), has_next="next" in paging, has_previous="previous" in paging,
                    next_url=paging.get("next"))
    return parse


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def parse_time(value: Any) -> datetime | None:
    """Graph's ISO-8601 time with an offset (``2021-03-09T13:04:20+0000``, §0.5) as an aware datetime."""
    if value is None or value == "":
        return None
    return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")


@dataclass(frozen=True)
class AchievementDefinition:
    """An achievement definition (graph-api.md §2.2). ``target`` is None for SIMPLE, ``bitfield_length``
    for all but BITFIELD; the texts and image URIs of a secret one a user has not unlocked are None."""

    id: str
    api_name: str | None = None
    achievement_type: str | None = None
    achievement_write_policy: str | None = None
    target: int | None = None
    bitfield_length: int | None = None
    is_archived: bool | None = None
    is_secret: bool | None = None
    title: str | None = None
    description: str | None = None
    unlocked_description_override: str | None = None
    title_locale_map: dict[str, str] | None = None
    description_locale_map: dict[str, str] | None = None
    locked_image_uri: str | None = None
    unlocked_image_uri: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AchievementDefinition:
        return cls(
            id=str(data["id"]), api_name=data.get("api_name"), achievement_type=data.get("achievement_type"),
            achievement_write_policy=data.get("achievement_write_policy"), target=_opt_int(data.get("target")),
            bitfield_length=_opt_int(data.get("bitfield_length")), is_archived=_opt_bool(data.get("is_archived")),
            is_secret=_opt_bool(data.get("is_secret")), title=data.get("title"), description=data.get("description"),
            unlocked_description_override=data.get("unlocked_description_override"),
            title_locale_map=data.get("title_locale_map"), description_locale_map=data.get("description_locale_map"),
            locked_image_uri=data.get("locked_image_uri"), unlocked_image_uri=data.get("unlocked_image_uri"),
        )


@dataclass(frozen=True)
class AchievementProgress:
    """A user's progress on one achievement (§2.4). ``unlock_time`` is Unix seconds, 0 while locked."""

    id: str
    api_name: str | None = None
    target: int | None = None
    is_unlocked: bool | None = None
    unlock_time: int | None = None
    count_progress: int | None = None
    bitfield_progress: str | None = None
    definition: AchievementDefinition | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AchievementProgress:
        definition = data.get("definition")
        return cls(
            id=str(data["id"]), api_name=data.get("api_name"), target=_opt_int(data.get("target")),
            is_unlocked=_opt_bool(data.get("is_unlocked")), unlock_time=_opt_int(data.get("unlock_time")),
            count_progress=_opt_int(data.get("count_progress")), bitfield_progress=data.get("bitfield_progress"),
            definition=AchievementDefinition.from_json(definition) if isinstance(definition, dict) else None,
        )


@dataclass(frozen=True)
class AchievementWrite:
    """The answer of a progress write (D24): ``just_unlocked`` is True only for the call that unlocked it."""

    user_id: str
    api_name: str
    just_unlocked: bool


@dataclass(frozen=True)
class Entitlement:
    """The answer of ``verify_entitlement`` (D28): owned or not (a "no" is an answer, D8), and since when.
    True in a boolean context when owned."""

    success: bool
    grant_time: int | None = None

    def __bool__(self) -> bool:
        return self.success


@dataclass(frozen=True)
class Price:
    """A price (§3.4): ``amount_in_hundredths`` of ``currency``, and Meta's display text."""

    currency: str | None = None
    amount_in_hundredths: int | None = None
    formatted: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Price | None:
        if not isinstance(data, dict):
            return None
        return cls(currency=data.get("currency"), amount_in_hundredths=_opt_int(data.get("amount_in_hundredths")),
                   formatted=data.get("formatted"))


@dataclass(frozen=True)
class Offer:
    """An item's current offer, the paid offer of a billing plan (with ``subscription_term``), or a trial
    offer (with ``trial_type``, ``trial_term`` and, for INTRO_OFFER, ``max_term_count``)."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    price: Price | None = None
    subscription_term: str | None = None
    trial_type: str | None = None
    trial_term: str | None = None
    max_term_count: int | None = None

    @classmethod
    def from_json(cls, data: Any) -> Offer | None:
        if not isinstance(data, dict):
            return None
        return cls(id=_opt_str(data.get("id")), name=data.get("name"), description=data.get("description"),
                   price=Price.from_json(data.get("price")), subscription_term=data.get("subscription_term"),
                   trial_type=data.get("trial_type"), trial_term=data.get("trial_term"),
                   max_term_count=_opt_int(data.get("max_term_count")))


@dataclass(frozen=True)
class BillingPlan:
    """A subscription's billing plan: the paid offer and its trial offers (§3.4)."""

    paid_offer: Offer | None = None
    trial_offers: list[Offer] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BillingPlan:
        return cls(paid_offer=Offer.from_json(data.get("paid_offer")),
                   trial_offers=[o for o in map(Offer.from_json, data.get("trial_offers") or []) if o is not None])


@dataclass(frozen=True)
class IapItem:
    """An item of the app's catalogue (§3.4). ``billing_plans`` is empty for DURABLE and CONSUMABLE items."""

    id: str
    sku: str | None = None
    name: str | None = None
    description: str | None = None
    current_offer: Offer | None = None
    billing_plans: list[BillingPlan] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IapItem:
        plans = data.get("billing_plans")
        return cls(id=str(data["id"]), sku=data.get("sku"), name=data.get("name"), description=data.get("description"),
                   current_offer=Offer.from_json(data.get("current_offer")),
                   billing_plans=None if plans is None else [BillingPlan.from_json(p) for p in plans])


@dataclass(frozen=True)
class Purchase:
    """An item a user owns (§3.3). ``expiration_time`` is 0 for no expiry; Unix seconds."""

    id: str
    grant_time: int | None = None
    expiration_time: int | None = None
    item: IapItem | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Purchase:
        item = data.get("item")
        return cls(id=str(data["id"]), grant_time=_opt_int(data.get("grant_time")),
                   expiration_time=_opt_int(data.get("expiration_time")),
                   item=IapItem.from_json(item) if isinstance(item, dict) else None)


@dataclass(frozen=True)
class PriceTerm:
    """A subscription's price term (§6.1): ``price`` is a decimal string without a currency sign."""

    term: str | None = None
    currency: str | None = None
    price: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> PriceTerm | None:
        if not isinstance(data, dict):
            return None
        return cls(term=data.get("term"), currency=data.get("currency"), price=_opt_str(data.get("price")))


@dataclass(frozen=True)
class Subscription:
    """A user's subscription (§6.1). Times are aware datetimes; a field the server leaves out (say
    ``cancellation_time`` of a subscription never cancelled) is None."""

    id: str
    sku: str | None = None
    owner: User | None = None
    is_active: bool | None = None
    is_trial: bool | None = None
    trial_type: str | None = None
    period_start_time: datetime | None = None
    period_end_time: datetime | None = None
    cancellation_time: datetime | None = None
    next_renewal_time: datetime | None = None
    current_price_term: PriceTerm | None = None
    next_price_term: PriceTerm | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Subscription:
        owner = data.get("owner")
        return cls(
            id=str(data["id"]), sku=data.get("sku"), owner=User.from_json(owner) if isinstance(owner, dict) else None,
            is_active=_opt_bool(data.get("is_active")), is_trial=_opt_bool(data.get("is_trial")),
            trial_type=data.get("trial_type"), period_start_time=parse_time(data.get("period_start_time")),
            period_end_time=parse_time(data.get("period_end_time")),
            cancellation_time=parse_time(data.get("cancellation_time")),
            next_renewal_time=parse_time(data.get("next_renewal_time")),
            current_price_term=PriceTerm.from_json(data.get("current_price_term")),
            next_price_term=PriceTerm.from_json(data.get("next_price_term")),
        )


@dataclass(frozen=True)
class LinkFragment:
    """What the SSO page puts in the redirect's fragment (D31): the single-use ``code`` and the person's
    org-scoped id. The code is a credential: it is kept out of repr."""

    code: str = field(repr=False)
    org_scoped_id: str


@dataclass(frozen=True)
class LinkTokens:
    """The answer of ``sso_authorize_code`` / ``sso_authorize_refresh_code`` (D32–D34): a 30-day
    ``oauth_token`` (for ``/me``) and the ``refresh_code`` for the next refresh. Both kept out of repr."""

    oauth_token: str = field(repr=False)
    refresh_code: str = field(repr=False)
    org_scoped_id: str

    @classmethod
    def parser(cls, org_scoped_id: str) -> Callable[[Any], LinkTokens]:
        return lambda body: cls(str(body["oauth_token"]), str(body["refresh_code"]), org_scoped_id)


# --- admin API of those features (docs/config.md) ---------------------------------------------------------
@dataclass(frozen=True)
class CatalogueItem:
    """An item of an app's catalogue as the admin API shows it (D29): prices in hundredths."""

    id: str
    app_id: str
    sku: str
    type: str
    name: str
    description: str
    price: int
    currency: str
    subscription_term: str | None = None
    trial_type: str | None = None
    trial_term: str | None = None
    trial_max_term_count: int | None = None
    trial_price: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CatalogueItem:
        return cls(id=str(data["id"]), app_id=str(data["app_id"]), sku=str(data["sku"]), type=str(data["type"]),
                   name=str(data["name"]), description=str(data.get("description") or ""), price=int(data["price"]),
                   currency=str(data["currency"]), subscription_term=data.get("subscription_term"),
                   trial_type=data.get("trial_type"), trial_term=data.get("trial_term"),
                   trial_max_term_count=_opt_int(data.get("trial_max_term_count")),
                   trial_price=_opt_int(data.get("trial_price")))


@dataclass(frozen=True)
class PurchaseRecord:
    """A row of a user's purchase history (admin API): ``kind`` is ``purchase`` (with ``expires_at``,
    ``consumed_at``, ``refunded_at``, ``refund_reason``, ``owned``) or ``subscription`` (with the period,
    ``is_active``, ``is_trial``, ``auto_renew``, cancellation and ``extension_days``). Unix seconds, except
    the subscription's ISO period times."""

    id: str
    kind: str
    sku: str
    type: str
    granted_at: int
    expires_at: int | None = None
    consumed_at: int | None = None
    refunded_at: int | None = None
    refund_reason: str | None = None
    owned: bool | None = None
    is_active: bool | None = None
    is_trial: bool | None = None
    auto_renew: bool | None = None
    period_start_time: datetime | None = None
    period_end_time: datetime | None = None
    cancellation_time: datetime | None = None
    cancel_reason: int | None = None
    extension_days: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PurchaseRecord:
        return cls(
            id=str(data["id"]), kind=str(data["kind"]), sku=str(data["sku"]), type=str(data["type"]),
            granted_at=int(data["granted_at"]), expires_at=_opt_int(data.get("expires_at")),
            consumed_at=_opt_int(data.get("consumed_at")), refunded_at=_opt_int(data.get("refunded_at")),
            refund_reason=data.get("refund_reason"), owned=_opt_bool(data.get("owned")),
            is_active=_opt_bool(data.get("is_active")), is_trial=_opt_bool(data.get("is_trial")),
            auto_renew=_opt_bool(data.get("auto_renew")), period_start_time=parse_time(data.get("period_start_time")),
            period_end_time=parse_time(data.get("period_end_time")),
            cancellation_time=parse_time(data.get("cancellation_time")),
            cancel_reason=_opt_int(data.get("cancel_reason")), extension_days=_opt_int(data.get("extension_days")),
        )


@dataclass(frozen=True)
class AdminProgress:
    """A user's progress row as the admin API shows it: archived achievements and secret progress included."""

    id: str
    api_name: str
    definition_id: str
    achievement_type: str
    is_archived: bool
    is_unlocked: bool
    unlock_time: int
    count_progress: int
    bitfield_progress: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AdminProgress:
        return cls(id=str(data["id"]), api_name=str(data["api_name"]), definition_id=str(data["definition_id"]),
                   achievement_type=str(data["achievement_type"]), is_archived=bool(data["is_archived"]),
                   is_unlocked=bool(data["is_unlocked"]), unlock_time=int(data["unlock_time"] or 0),
                   count_progress=int(data["count_progress"] or 0),
                   bitfield_progress=str(data["bitfield_progress"] or ""))


@dataclass(frozen=True)
class AccountLink:
    """An account link (D32–D34) as the admin API shows it: never a token or a code."""

    id: str
    org_id: str
    org_scoped_id: str
    app_id: str
    created_at: int
    refreshed_at: int | None = None
    revoked: bool = False
    revoked_at: int | None = None
    revoked_reason: str | None = None
    alias: str | None = None
    live_tokens: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AccountLink:
        return cls(id=str(data["id"]), org_id=str(data["org_id"]), org_scoped_id=str(data["org_scoped_id"]),
                   app_id=str(data["app_id"]), created_at=int(data["created_at"]),
                   refreshed_at=_opt_int(data.get("refreshed_at")), revoked=bool(data.get("revoked")),
                   revoked_at=_opt_int(data.get("revoked_at")), revoked_reason=data.get("revoked_reason"),
                   alias=data.get("alias"), live_tokens=_opt_int(data.get("live_tokens")))
