"""The control plane's HTTP API under /_admin, protected by the admin key (docs/config.md)."""
