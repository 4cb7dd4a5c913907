"""What the admin API needs of the server: its feature services and its whole-state actions.

A Protocol, so the admin API does not import the server (app.py imports the admin routes); ``Server``
satisfies it as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from questgraph.server.achievements.service import AchievementService
from questgraph.server.challenges.service import ChallengeService
from questgraph.server.clock import Clock
from questgraph.server.commerce.service import CommerceService
from questgraph.server.dashboard.service import DashboardService
from questgraph.server.faults.service import FaultService
from questgraph.server.federation.service import FederationService
from questgraph.server.identity.service import IdentityService
from questgraph.server.integrity.service import IntegrityService
from questgraph.server.notifications.service import NotificationService
from questgraph.server.settings import Settings
from questgraph.server.sso.service import SsoService
from questgraph.server.users.service import UserService

Tables = dict[str, list[dict[str, Any]]]


class AdminContext(Protocol):
    settings: Settings
    clock: Clock
    identity: IdentityService
    users: UserService
    achievements: AchievementService
    commerce: CommerceService
    challenges: ChallengeService
    sso: SsoService
    dashboard: DashboardService
    faults: FaultService
    notifications: NotificationService
    federation: FederationService
    integrity: IntegrityService

    def reset(self, apply_world: bool = True) -> None:
        """Empty the database (and apply the world file, unless told not to); rebuild the rank index."""

    def move_clock(self, change: Callable[[Clock], None]) -> None:
        """Change the emulator clock and store its offset, so other processes follow it (D36)."""

    def export_snapshot(self) -> Tables:
        """Every table's rows."""

    def import_snapshot(self, tables: Tables) -> None:
        """Replace the whole state with a snapshot's tables (400 and no change when they do not fit), then
        take its clock offset and rebuild the rank index."""
