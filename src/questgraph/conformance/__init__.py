"""``questgraph conformance``: one scripted scenario run against a target (normally graph.oculus.com) and against
a questgraph, compared answer by answer: status, error type and code, JSON shape and paging (docs/conformance.md).

scenario.py holds the steps and runs them, shape.py turns JSON into its shape, compare.py finds the differences
and report.py prints them, with every secret redacted."""
