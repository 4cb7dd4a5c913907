"""The entitlement, IAP (graph-api.md §3) and subscription (§6) routes: method, documented path, handler
(commerce/views.py)."""

from __future__ import annotations

from questgraph.server.commerce.service import CommerceService
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
from questgraph.server.graph.routing import Route, RouteTable

ROUTES: RouteTable[CommerceService] = (
    # D27: both methods, with or without the app id in the path.
    Route("GET", "/{app_id}/verify_entitlement", verify_entitlement),
    Route("POST", "/{app_id}/verify_entitlement", verify_entitlement),
    Route("GET", "/verify_entitlement", verify_entitlement),
    Route("POST", "/verify_entitlement", verify_entitlement),
    Route("GET", "/{app_id}/consume_entitlement", consume_entitlement),
    Route("POST", "/{app_id}/consume_entitlement", consume_entitlement),
    Route("GET", "/consume_entitlement", consume_entitlement),
    Route("POST", "/consume_entitlement", consume_entitlement),
    Route("GET", "/{app_id}/viewer_purchases", viewer_purchases),
    Route("GET", "/application/available_purchases", available_purchases),
    Route("POST", "/{app_id}/refund_iap_entitlement", refund_iap_entitlement),
    Route("GET", "/application/subscriptions", subscriptions),
    Route("POST", "/application/cancel_subscription", cancel_subscription),
    Route("POST", "/application/extend_subscription", extend_subscription),
)
