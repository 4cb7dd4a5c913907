"""The web dashboard (issue 7): organization members, pages over the admin API and the services, the
request inspector and the audit log."""

from questgraph.server.dashboard.inspector import RequestInspector
from questgraph.server.dashboard.service import DashboardService

__all__ = ["DashboardService", "RequestInspector"]
