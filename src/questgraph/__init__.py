"""questgraph: Meta Quest's server-to-server Graph API, as a faithful local server and a Python client."""

__version__ = "0.1.0"
