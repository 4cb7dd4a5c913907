"""Platform integrity (graph-api.md A.4): attestation tokens, minted by the emulator and verified by
``/platform_integrity/verify``, and device bans."""

from questgraph.server.integrity.service import IntegrityService

__all__ = ["IntegrityService"]
