"""The web dashboard: organization members, pages (Jinja2 templates) over the services, the
request inspector and the audit log."""

from questgraph.server.dashboard.inspector import RequestInspector
from questgraph.server.dashboard.service import DashboardService

__all__ = ["DashboardService", "RequestInspector"]
