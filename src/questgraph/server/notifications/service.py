"""Event-based user notifications (graph-api.md §A.3, D37), free of HTTP.

Meta issues a request id for each notification template after review in its dashboard; here the admin API
(or the world file) registers templates per app, each with its category. Triggering one records who was
notified, by which template and when, so tests and the dashboard can see what a game server sent. The
token rule is Meta's: a user token for the "Social" category, the app's credentials for the others.
"""

from __future__ import annotations

from questgraph.server.auth.callers import AppCaller, Caller, UserCaller
from questgraph.server.clock import Clock
from questgraph.server.db import Database
from questgraph.server.errors import Forbidden, InvalidParameter, NotFound
from questgraph.server.identity.service import IdentityService
from questgraph.server.identity.store import IdentityStore
from questgraph.server.notifications.records import NotifRequest, SentNotification
from questgraph.server.notifications.store import NotificationStore

SOCIAL = "SOCIAL"
CATEGORIES = (SOCIAL, "EVENTS", "PROMOTION")  # the dashboard's categories (ps-user-notifications-create)
MAX_RECIPIENTS = 1000
MAX_NAME = 256


class NotificationService:
    def __init__(self, db: Database, store: NotificationStore, identity_store: IdentityStore, clock: Clock,
                 identity: IdentityService) -> None:
        self.db = db
        self.store = store
        self.identity_store = identity_store
        self.clock = clock
        self.identity = identity

    # --- templates (control plane) ----------------------------------------------------------------
    def register_request(self, app_id: int, category: str, name: str = "", fixed_id: int | None = None) -> NotifRequest:
        """A reviewed notification template of the app: its request id is a global object id (D9)."""
        category = category.strip().upper()
        if category not in CATEGORIES:
            raise InvalidParameter(f"Param category must be one of {{{', '.join(CATEGORIES)}}}")
        name = name.strip()
        if len(name) > MAX_NAME:
            raise InvalidParameter(f"Param name must be at most {MAX_NAME} characters long")
        with self.db.transaction():
            app = self.identity.app(app_id)
            request = NotifRequest(self.identity.claim_id("notif_request", fixed_id), app.id, category, name,
                                   self.clock.now())
            self.store.insert_request(request)
        return request

    def requests(self, app_id: int) -> list[NotifRequest]:
        return self.store.requests_of_app(self.identity.app(app_id).id)

    def sent(self, app_id: int) -> list[SentNotification]:
        """Every notification the app triggered, oldest first."""
        return self.store.sent_of_app(self.identity.app(app_id).id)

    # --- POST /{request_id}/triggered_notifs_with_text_map ------------------------------------------
    def trigger(self, caller: Caller, request_id: int, recipient_ids: list[int],
                notif_request: int | None = None) -> SentNotification:
        request = self.store.get_request(request_id)
        if request is None:
            raise NotFound(f"Object with ID '{request_id}' does not exist, cannot be loaded due to missing "
                           "permissions, or does not support this operation")
        if request.app_id != caller.app.id:
            raise Forbidden("The access token belongs to another app")
        if request.category == SOCIAL and not isinstance(caller, UserCaller):
            raise Forbidden("A notification of the Social category needs a user access token")
        if request.category != SOCIAL and not isinstance(caller, AppCaller):
            raise Forbidden(f"A notification of the {request.category.title()} category needs an app access token "
                            "(OC|app_id|app_secret)")
        if notif_request is not None and notif_request != request.id:
            raise InvalidParameter(f"Param notif_request must be the request id of the path ({request.id})")
        recipients = list(dict.fromkeys(recipient_ids))  # a repeated id is notified once
        if not recipients:
            raise InvalidParameter("Param recipient_ids must list at least one user id")
        if len(recipients) > MAX_RECIPIENTS:
            raise InvalidParameter(f"Param recipient_ids must list at most {MAX_RECIPIENTS} user ids")
        users = self.identity_store.get_users(recipients)
        for user_id in recipients:
            user = users.get(user_id)
            if user is None or user.app_id != caller.app.id:  # another app's users cannot be probed (D16)
                raise InvalidParameter(f"Parameter recipient_ids: invalid user id: {user_id}")
        sender = caller.user.id if isinstance(caller, UserCaller) else None
        now = self.clock.now()
        with self.db.transaction():
            sent_id = self.store.insert_sent(caller.app.id, request.id, recipients, sender, now)
        return SentNotification(sent_id, caller.app.id, request.id, tuple(recipients), sender, now)
