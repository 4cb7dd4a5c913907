"""Federated users (graph-api.md A.2, cross-play): users of an app that live outside Meta's ecosystem,
named by the developer's own ``persistent_id``; they take part in leaderboards and achievements as the
app's other users do (docs/fidelity.md, "Federated users")."""
