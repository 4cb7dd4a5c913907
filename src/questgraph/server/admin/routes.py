"""Every route of the admin API under /_admin (docs/config.md): method, path, handler. Each table's
handlers take one service (or, for whole-state actions, the server as an ``AdminContext``); ``register``
binds each table to it."""

from __future__ import annotations

from questgraph.server.achievements.service import AchievementService
from questgraph.server.admin import views
from questgraph.server.admin.context import AdminContext
from questgraph.server.commerce import admin as commerce_admin
from questgraph.server.commerce.service import CommerceService
from questgraph.server.dashboard import admin as dashboard_admin
from questgraph.server.dashboard.service import DashboardService
from questgraph.server.graph.routing import Route, Router, RouteTable
from questgraph.server.identity.service import IdentityService
from questgraph.server.sso import admin as sso_admin
from questgraph.server.sso.service import SsoService
from questgraph.server.users import admin as user_admin
from questgraph.server.users.service import UserService

IDENTITY: RouteTable[IdentityService] = (
    Route("POST", "/_admin/orgs", views.create_org),
    Route("POST", "/_admin/orgs/{org_id}/apps", views.create_app),
    Route("GET", "/_admin/apps/{app_id}", views.get_app),
    Route("POST", "/_admin/apps/{app_id}/secret", views.rotate_secret),
    Route("GET", "/_admin/apps/{app_id}/users", views.list_users),
    Route("POST", "/_admin/apps/{app_id}/users", views.create_user),
    Route("GET", "/_admin/users/{user_id}", views.get_user),
    Route("POST", "/_admin/users/{user_id}/tokens", views.mint_token),
    Route("POST", "/_admin/users/{user_id}/entitlements", views.grant_entitlement),
    Route("POST", "/_admin/users/{user_id}/friends", views.befriend),
)
STATE: RouteTable[AdminContext] = (  # whole-state actions, and the one read across features
    Route("GET", "/_admin/orgs", views.list_orgs),
    Route("POST", "/_admin/reset", views.reset),
    Route("GET", "/_admin/snapshot", views.export_snapshot),
    Route("POST", "/_admin/snapshot", views.import_snapshot),
    Route("GET", "/_admin/clock", views.get_clock),
    Route("POST", "/_admin/clock", views.move_clock),
)
USERS: RouteTable[UserService] = (
    Route("POST", "/_admin/users/{user_id}/nonces", user_admin.mint_nonce),
)
ACHIEVEMENTS: RouteTable[AchievementService] = (
    Route("GET", "/_admin/users/{user_id}/achievements", user_admin.user_achievements),
)
COMMERCE: RouteTable[CommerceService] = (
    Route("GET", "/_admin/apps/{app_id}/items", commerce_admin.list_items),
    Route("POST", "/_admin/apps/{app_id}/items", commerce_admin.create_item),
    Route("GET", "/_admin/users/{user_id}/purchases", commerce_admin.history),
    Route("POST", "/_admin/users/{user_id}/purchases", commerce_admin.grant),
)
DASHBOARD: RouteTable[DashboardService] = (  # members and the audit log of the web dashboard
    Route("GET", "/_admin/orgs/{org_id}/members", dashboard_admin.list_members),
    Route("POST", "/_admin/orgs/{org_id}/members", dashboard_admin.put_member),
    Route("DELETE", "/_admin/members/{member_id}", dashboard_admin.remove_member),
    Route("GET", "/_admin/audit", dashboard_admin.audit_log),
)
SSO: RouteTable[SsoService] = (  # redirect URIs, account links and SSO passwords (D30, D32-D34)
    Route("GET", "/_admin/orgs/{org_id}/redirect_uris", sso_admin.list_redirect_uris),
    Route("POST", "/_admin/orgs/{org_id}/redirect_uris", sso_admin.add_redirect_uri),
    Route("GET", "/_admin/users/{user_id}/links", sso_admin.list_links),
    Route("DELETE", "/_admin/links/{link_id}", sso_admin.revoke_link),
    Route("POST", "/_admin/links/{link_id}/revoke", sso_admin.revoke_link),
    Route("POST", "/_admin/users/{user_id}/password", sso_admin.set_password),
)


def register(router: Router, server: AdminContext) -> None:
    router.add_table(IDENTITY, server.identity)
    router.add_table(STATE, server)
    router.add_table(USERS, server.users)
    router.add_table(ACHIEVEMENTS, server.achievements)
    router.add_table(COMMERCE, server.commerce)
    router.add_table(DASHBOARD, server.dashboard)
    router.add_table(SSO, server.sso)
