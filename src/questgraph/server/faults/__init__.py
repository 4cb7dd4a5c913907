"""Fault injection (docs/fault-injection.md): rules that make chosen Graph requests fail as Meta's do (an
error envelope, added latency, a dropped connection), for a studio to test its retries and error paths.
Emulator only; off until a rule exists."""

from questgraph.server.faults.service import FaultService

__all__ = ["FaultService"]
