"""The questgraph server: graph.oculus.com's S2S API, self-hosted.

Layout: ``graph`` is the thin HTTP layer (parameters, fields, errors, routing, paging); ``identity``,
``leaderboards`` and the other features hold logic free of HTTP, each with its own tables behind its
``store.py``; ``db`` is the shared database handle they run on; ``ranking`` sits behind a protocol;
``admin`` is the control plane; ``app`` wires them together.
"""
