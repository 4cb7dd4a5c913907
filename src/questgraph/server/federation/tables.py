"""Federation's one table: which of an app's users are federated users, and their federated names.

A federated user is also an app user (``app_users``, with its own person): that is how leaderboards and
achievements see them with no change. ``user_id`` is the federated user's id (a global object id of kind
``federated_user``, D9)."""

from __future__ import annotations

from sqlalchemy import Table, UniqueConstraint

from questgraph.server.db.columns import integer, key, ref, text
from questgraph.server.db.tables import metadata

federated_users = Table(
    "federated_users", metadata,
    key("user_id", references="app_users.id"),
    ref("app_id", "apps.id"),
    text("persistent_id"),
    text("display_name"),
    integer("name_number"),  # the n of unique_name "{display_name}#{n}"
    integer("created_at"),
    UniqueConstraint("app_id", "persistent_id"),
    UniqueConstraint("app_id", "display_name", "name_number"),
)
