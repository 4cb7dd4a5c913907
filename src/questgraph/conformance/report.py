"""The report of a run: a dated summary a team can keep, then one row per difference (or --json).

Nothing a side was given as a secret (app secret, app token, user token) is ever in it: the report names
paths, statuses, error codes and JSON types, never values, and ``redact`` scrubs the finished text anyway."""

from __future__ import annotations

import json
import re
from typing import Any

from questgraph.conformance.scenario import Run

REDACTED = "[redacted]"
# Whatever looks like a token even when it is not one of ours: an app token, an access_token parameter.
_TOKEN_LIKE = re.compile(r"OC\|\d+\|[A-Za-z0-9]+|(access_token=)[^&\s\"']+")


def redact(text: str, secrets: list[str]) -> str:
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _TOKEN_LIKE.sub(lambda m: (m.group(1) or "") + REDACTED, text)


def summary(run: Run) -> dict[str, Any]:
    compared = [r for r in run.results if r.skipped is None]
    return {
        "date": run.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "target": run.target_url,
        "questgraph": run.local_url,
        "questgraph_version": run.version,
        "writing_steps": run.write,
        "steps": len(run.results),
        "compared": len(compared),
        "skipped": len(run.results) - len(compared),
        "steps_differing": sum(1 for r in compared if r.differences),
        "differences": len(run.differences),
        "cleanup_problems": list(run.cleanup_problems),
    }


def as_json(run: Run) -> dict[str, Any]:
    return {
        "summary": summary(run),
        "steps": [{
            "name": r.step.name, "method": r.step.method, "path": r.step.path,
            "outcome": "skipped" if r.skipped else "differs" if r.differences else "same",
            "skipped": r.skipped,
            "target_status": r.target.status if r.target else None,
            "questgraph_status": r.local.status if r.local else None,
            "differences": [{"kind": d.kind, "detail": d.detail, "target": d.target, "questgraph": d.questgraph}
                            for d in r.differences],
        } for r in run.results],
    }


def render_json(run: Run, secrets: list[str]) -> str:
    return redact(json.dumps(as_json(run), indent=2), secrets)


def render_table(run: Run, secrets: list[str]) -> str:
    head = summary(run)
    lines = [f"questgraph conformance, {head['date']}",
             f"  target      {head['target']}",
             f"  questgraph  {head['questgraph']} (questgraph {head['questgraph_version']} ran the comparison)",
             f"  steps       {head['steps']} ({head['compared']} compared, {head['skipped']} skipped"
             + (", writing steps included" if run.write else ", read-only") + ")",
             f"  result      {head['differences']} difference(s) in {head['steps_differing']} step(s)", ""]
    rows = [["step", "kind", "what", "target", "questgraph"]]
    for result in run.results:
        if result.skipped:
            rows.append([result.step.name, "skipped", result.skipped, "", ""])
        elif not result.differences:
            rows.append([result.step.name, "same", "", str(result.target.status if result.target else ""),
                         str(result.local.status if result.local else "")])
        rows.extend([d.step, d.kind, d.detail, d.target, d.questgraph] for d in result.differences)
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    lines.extend(f"cleanup problem: {p}" for p in run.cleanup_problems)
    return redact("\n".join(lines), secrets)
