"""The entitlement, IAP (graph-api.md §3) and subscription (§6) routes: method, documented path, handler
(commerce/views.py)."""

from __future__ import annotations

from questgraph.server.commerce.service import MAX_EXTENSION_DAYS, CommerceService
from questgraph.server.commerce.views import (
    available_purchases,
    cancel_subscription,
    consume_entitlement,
    extend_subscription,
    refund_iap_entitlement,
    subscriptions,
    verify_entitlement,
    viewer_purchases,
)
from questgraph.server.graph.routing import FIELDS, PAGING, Param, Route, RouteTable

USER_ID = Param("user_id", "id")
SKU = Param("sku", required=True)
VERIFY = (Param("sku"), USER_ID)
CONSUME = (SKU, USER_ID)
OWNER = (Param("owner_id", "id"), Param("owner_alias"), SKU)

ROUTES: RouteTable[CommerceService] = (
    # D27: both methods, with or without the app id in the path.
    Route("GET", "/{app_id}/verify_entitlement", verify_entitlement, VERIFY, "Entitlement"),
    Route("POST", "/{app_id}/verify_entitlement", verify_entitlement, VERIFY, "Entitlement"),
    Route("GET", "/verify_entitlement", verify_entitlement, VERIFY, "Entitlement"),
    Route("POST", "/verify_entitlement", verify_entitlement, VERIFY, "Entitlement"),
    Route("GET", "/{app_id}/consume_entitlement", consume_entitlement, CONSUME, "Consumed"),
    Route("POST", "/{app_id}/consume_entitlement", consume_entitlement, CONSUME, "Consumed"),
    Route("GET", "/consume_entitlement", consume_entitlement, CONSUME, "Consumed"),
    Route("POST", "/consume_entitlement", consume_entitlement, CONSUME, "Consumed"),
    Route("GET", "/{app_id}/viewer_purchases", viewer_purchases, (USER_ID, FIELDS, *PAGING), "Purchases"),
    Route("GET", "/application/available_purchases", available_purchases, (FIELDS, *PAGING), "Items"),
    Route("POST", "/{app_id}/refund_iap_entitlement", refund_iap_entitlement,
          (SKU, USER_ID, Param("reason", required=True))),
    Route("GET", "/application/subscriptions", subscriptions, (
        FIELDS, Param("owner_id", "id"), Param("is_active", "boolean"), Param("is_trial", "boolean"),
        Param("skus", "list"), *PAGING,
    ), "Subscriptions"),
    Route("POST", "/application/cancel_subscription", cancel_subscription,
          (*OWNER, Param("cancel_reason", "integer", minimum=0, maximum=5))),
    Route("POST", "/application/extend_subscription", extend_subscription,
          (*OWNER, Param("number_of_days", "integer", required=True, minimum=1, maximum=MAX_EXTENSION_DAYS))),
)
