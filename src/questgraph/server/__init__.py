"""The questgraph server: graph.oculus.com's S2S API, self-hosted.

Layout: ``graph`` is the thin HTTP layer (parameters, fields, errors, routing, paging); ``identity``,
``leaderboards`` hold feature logic free of HTTP; ``storage`` and ``ranking`` sit behind protocols;
``admin`` is the control plane; ``app`` wires them together.
"""
