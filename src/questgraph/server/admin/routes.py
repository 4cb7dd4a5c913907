"""Every route of the admin API under /_admin (docs/config.md): method, path, handler. Each table's
handlers take one service (or, for whole-state actions, the server as an ``AdminContext``); ``register``
binds each table to it."""

from __future__ import annotations

from questgraph.server.achievements.service import AchievementService
from questgraph.server.admin import views
from questgraph.server.admin.context import AdminContext
from questgraph.server.challenges import admin as challenge_admin
from questgraph.server.challenges.service import VISIBILITIES, ChallengeService
from questgraph.server.clock import MAX_CLOCK_SECONDS
from questgraph.server.commerce import admin as commerce_admin
from questgraph.server.commerce.service import ITEM_TYPES, CommerceService
from questgraph.server.commerce.terms import TERMS, TRIAL_TYPES
from questgraph.server.dashboard import admin as dashboard_admin
from questgraph.server.dashboard.records import ROLES
from questgraph.server.dashboard.service import DashboardService
from questgraph.server.faults import admin as faults_admin
from questgraph.server.faults.service import KINDS as FAULT_KINDS
from questgraph.server.faults.service import MAX_LATENCY_MS, FaultService
from questgraph.server.federation import admin as federation_admin
from questgraph.server.federation.service import FederationService
from questgraph.server.graph.routing import Param, Route, Router, RouteTable
from questgraph.server.identity.service import AGE_CATEGORIES, MAX_TOKEN_TTL_SECONDS, IdentityService
from questgraph.server.integrity import admin as integrity_admin
from questgraph.server.integrity.service import (
    APP_STATES,
    DEVICE_STATES,
    MAX_ATTESTATION_TTL_SECONDS,
    IntegrityService,
)
from questgraph.server.notifications import admin as notification_admin
from questgraph.server.notifications.service import CATEGORIES, NotificationService
from questgraph.server.sso import admin as sso_admin
from questgraph.server.sso.service import SsoService
from questgraph.server.users import admin as user_admin
from questgraph.server.users.service import MAX_NONCE_TTL_SECONDS, UserService

IDENTITY: RouteTable[IdentityService] = (
    Route("POST", "/_admin/orgs", views.create_org, (Param("name", required=True), Param("id", "id")), "Org"),
    Route("POST", "/_admin/orgs/{org_id}/apps", views.create_app,
          (Param("name", required=True), Param("id", "id"), Param("secret")), "App"),
    Route("GET", "/_admin/apps/{app_id}", views.get_app, answer="App"),
    Route("POST", "/_admin/apps/{app_id}/secret", views.rotate_secret, (Param("secret"),), "App"),
    Route("GET", "/_admin/apps/{app_id}/users", views.list_users, answer="AdminUsers"),
    Route("POST", "/_admin/apps/{app_id}/users", views.create_user, (
        Param("alias", required=True), Param("display_name"), Param("profile_url"),
        Param("age_category", enum=AGE_CATEGORIES), Param("id", "id"), Param("org_scoped_id", "id"),
        Param("entitled", "boolean"),
    ), "AdminUser"),
    Route("GET", "/_admin/users/{user_id}", views.get_user, answer="AdminUser"),
    Route("POST", "/_admin/users/{user_id}/tokens", views.mint_token,
          (Param("ttl_seconds", "integer", minimum=1, maximum=MAX_TOKEN_TTL_SECONDS), Param("token")), "UserToken"),
    Route("POST", "/_admin/users/{user_id}/entitlements", views.grant_entitlement,
          (Param("granted_at", "integer", minimum=0),)),
    Route("POST", "/_admin/users/{user_id}/friends", views.befriend, (Param("friend_id", "id", required=True),)),
    Route("POST", "/_admin/users/{user_id}/orgs", views.join_org,
          (Param("org_id", "id", required=True), Param("org_scoped_id", "id")), "OrgScopedId"),
)
STATE: RouteTable[AdminContext] = (  # whole-state actions, and the one read across features
    Route("GET", "/_admin/orgs", views.list_orgs, answer="Orgs"),
    Route("POST", "/_admin/reset", views.reset, (Param("empty", "boolean"),)),
    Route("GET", "/_admin/snapshot", views.export_snapshot, answer="Snapshot"),
    Route("POST", "/_admin/snapshot", views.import_snapshot,
          (Param("version", "integer", required=True), Param("tables", "json", required=True))),
    Route("GET", "/_admin/clock", views.get_clock, answer="Clock"),
    Route("POST", "/_admin/clock", views.move_clock, (
        Param("advance_seconds", "integer", minimum=0), Param("set", "integer", minimum=0, maximum=MAX_CLOCK_SECONDS),
        Param("freeze", "boolean"), Param("wall", "boolean"),
    ), "Clock"),
)
USERS: RouteTable[UserService] = (
    Route("POST", "/_admin/users/{user_id}/nonces", user_admin.mint_nonce,
          (Param("ttl_seconds", "integer", minimum=1, maximum=MAX_NONCE_TTL_SECONDS), Param("nonce")), "Nonce"),
)
ACHIEVEMENTS: RouteTable[AchievementService] = (
    Route("GET", "/_admin/users/{user_id}/achievements", user_admin.user_achievements, answer="AdminProgressList"),
)
COMMERCE: RouteTable[CommerceService] = (
    Route("GET", "/_admin/apps/{app_id}/items", commerce_admin.list_items, answer="AdminItems"),
    Route("POST", "/_admin/apps/{app_id}/items", commerce_admin.create_item, (
        Param("sku", required=True), Param("type", required=True, enum=ITEM_TYPES), Param("name", required=True),
        Param("description"), Param("price", "integer", minimum=0), Param("currency"),
        Param("subscription_term", enum=TERMS), Param("trial_type", enum=TRIAL_TYPES), Param("trial_term", enum=TERMS),
        Param("trial_max_term_count", "integer", minimum=1), Param("trial_price", "integer", minimum=0),
    ), "AdminItem"),
    Route("GET", "/_admin/users/{user_id}/purchases", commerce_admin.history, answer="PurchaseHistory"),
    Route("POST", "/_admin/users/{user_id}/purchases", commerce_admin.grant, (
        Param("sku", required=True), Param("expires_at", "integer", minimum=0), Param("trial", "boolean"),
        Param("granted_at", "integer", minimum=0),
    ), "HistoryRow"),
)
DASHBOARD: RouteTable[DashboardService] = (  # members and the audit log of the web dashboard
    Route("GET", "/_admin/orgs/{org_id}/members", dashboard_admin.list_members, answer="Members"),
    Route("POST", "/_admin/orgs/{org_id}/members", dashboard_admin.put_member, (
        Param("email", required=True), Param("name"), Param("role", enum=ROLES), Param("password"),
    ), "Member"),
    Route("DELETE", "/_admin/members/{member_id}", dashboard_admin.remove_member),
    Route("GET", "/_admin/audit", dashboard_admin.audit_log, (
        Param("org_id", "id"), Param("limit", "integer", minimum=1, maximum=500), Param("before", "id"),
    ), "AuditLog"),
)
SSO: RouteTable[SsoService] = (  # redirect URIs, account links and SSO passwords (D30, D32-D34)
    Route("GET", "/_admin/orgs/{org_id}/redirect_uris", sso_admin.list_redirect_uris, answer="RedirectUris"),
    Route("POST", "/_admin/orgs/{org_id}/redirect_uris", sso_admin.add_redirect_uri,
          (Param("redirect_uri", required=True),), "RedirectUris"),
    Route("GET", "/_admin/users/{user_id}/links", sso_admin.list_links, answer="Links"),
    Route("DELETE", "/_admin/links/{link_id}", sso_admin.revoke_link, answer="RevokedLink"),
    Route("POST", "/_admin/links/{link_id}/revoke", sso_admin.revoke_link, answer="RevokedLink"),
    Route("POST", "/_admin/users/{user_id}/password", sso_admin.set_password, (Param("password", required=True),)),
)
CHALLENGES: RouteTable[ChallengeService] = (  # graph-api.md A.1
    Route("GET", "/_admin/apps/{app_id}/challenges", challenge_admin.list_challenges, answer="AdminChallenges"),
    Route("POST", "/_admin/apps/{app_id}/challenges", challenge_admin.create_challenge, (
        Param("leaderboard_api_name", required=True), Param("visibility", enum=VISIBILITIES), Param("title"),
        Param("description"), Param("start_date"), Param("end_date"),
    ), "AdminChallenge"),
    Route("DELETE", "/_admin/challenges/{challenge_id}", challenge_admin.delete_challenge),
)
FAULTS: RouteTable[FaultService] = (  # fault injection (docs/fault-injection.md); emulator only
    Route("GET", "/_admin/faults", faults_admin.list_faults, answer="FaultRules"),
    Route("POST", "/_admin/faults", faults_admin.add_fault, (
        Param("route"), Param("app_id", "id"), Param("kind", enum=FAULT_KINDS),
        Param("status", "integer", minimum=400, maximum=599), Param("code", "integer", minimum=-1),
        Param("error_subcode", "integer", minimum=0), Param("type"), Param("message"), Param("is_transient", "boolean"),
        Param("latency_ms", "integer", minimum=1, maximum=MAX_LATENCY_MS), Param("probability"),
        Param("seed", "integer"), Param("count", "integer", minimum=1, maximum=1_000_000),
    ), "FaultRule"),
    Route("DELETE", "/_admin/faults", faults_admin.clear_faults, answer="FaultsCleared"),
    Route("DELETE", "/_admin/faults/{rule_id}", faults_admin.delete_fault),
)
NOTIFICATIONS: RouteTable[NotificationService] = (  # notification request templates and what was sent (D37)
    Route("GET", "/_admin/apps/{app_id}/notif_requests", notification_admin.list_requests, answer="NotifRequests"),
    Route("POST", "/_admin/apps/{app_id}/notif_requests", notification_admin.register_request,
          (Param("category", required=True, enum=CATEGORIES), Param("name"), Param("id", "id")), "NotifRequest"),
    Route("GET", "/_admin/apps/{app_id}/notifications", notification_admin.list_sent, answer="Notifications"),
)

# Federated users (A.2) of an app, without its app token.
FEDERATION: RouteTable[FederationService] = (
    Route("GET", "/_admin/apps/{app_id}/federated_users", federation_admin.list_federated_users,
          answer="AdminFederatedUsers"),
    Route("POST", "/_admin/apps/{app_id}/federated_users", federation_admin.create_federated_user, (
        Param("persistent_id", required=True), Param("display_name", required=True), Param("id", "id"),
    ), "AdminFederatedUser"),
    Route("DELETE", "/_admin/apps/{app_id}/federated_users", federation_admin.delete_federated_user,
          (Param("persistent_id", required=True),)),
)
INTEGRITY: RouteTable[IntegrityService] = (  # attestation tokens with chosen claims; device bans (A.4)
    Route("POST", "/_admin/apps/{app_id}/attestation_tokens", integrity_admin.mint_attestation_token, (
        Param("unique_id"), Param("nonce"), Param("app_integrity_state", enum=APP_STATES),
        Param("device_integrity_state", enum=DEVICE_STATES), Param("package_id"), Param("version"),
        Param("package_cert_sha256_digest", "list"),
        Param("ttl_seconds", "integer", minimum=1, maximum=MAX_ATTESTATION_TTL_SECONDS),
    ), "AttestationToken"),
    Route("GET", "/_admin/apps/{app_id}/device_bans", integrity_admin.list_device_bans, answer="AdminDeviceBans"),
)


def register(router: Router, server: AdminContext) -> None:
    router.add_table(IDENTITY, server.identity)
    router.add_table(STATE, server)
    router.add_table(USERS, server.users)
    router.add_table(ACHIEVEMENTS, server.achievements)
    router.add_table(COMMERCE, server.commerce)
    router.add_table(DASHBOARD, server.dashboard)
    router.add_table(SSO, server.sso)
    router.add_table(CHALLENGES, server.challenges)
    router.add_table(FAULTS, server.faults)
    router.add_table(NOTIFICATIONS, server.notifications)
    router.add_table(FEDERATION, server.federation)
    router.add_table(INTEGRITY, server.integrity)
