"""``questgraph conformance``: its flags and what it prints. Exit 0 when the two servers agree, 1 when they
differ (or a cleanup failed), 2 when the run cannot start (missing credentials, --write without --test-app)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from questgraph.conformance.scenario import META_URL, Side, run

SIDES = (("target", "TARGET", "the target (Meta)"), ("local", "LOCAL", "the questgraph compared with it"))
CREDENTIALS = (("app-id", "APP_ID", "app id"), ("app-secret", "APP_SECRET", "app secret"),
               ("user-token", "USER_TOKEN", "a test user's access token"),
               ("user-id", "USER_ID", "that user's id (default: GET /me)"),
               ("leaderboard", "LEADERBOARD", "a leaderboard's api_name (default: the first listed)"),
               ("achievement", "ACHIEVEMENT", "an achievement's api_name, for --write's unlock and reset"))


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "conformance", help="run one scenario against Meta (or any target) and a questgraph, and compare",
        description="Run one scripted scenario against --target and against --against, and report where the "
        "answers differ: status, error type and code, JSON shape (keys and types, not values), paging. "
        "Read-only unless --write --test-app ID. Secrets are never printed. See docs/conformance.md.")
    parser.add_argument("--target", default=os.environ.get("QUESTGRAPH_CONFORMANCE_TARGET_URL", META_URL),
                        help=f"the reference server (default {META_URL}; env QUESTGRAPH_CONFORMANCE_TARGET_URL)")
    parser.add_argument("--against", default=os.environ.get("QUESTGRAPH_CONFORMANCE_LOCAL_URL",
                                                            "http://127.0.0.1:8080"),
                        help="the questgraph to compare with, one you run (default http://127.0.0.1:8080; "
                        "env QUESTGRAPH_CONFORMANCE_LOCAL_URL)")
    for side, env_side, whose in SIDES:
        for flag, env, what in CREDENTIALS:
            name = f"QUESTGRAPH_CONFORMANCE_{env_side}_{env}"
            parser.add_argument(f"--{side}-{flag}", default=os.environ.get(name),
                                help=f"{whose}: {what} (env {name})")
    parser.add_argument("--write", action="store_true",
                        help="also run the writing steps (a scratch leaderboard, an achievement on the test "
                        "user), cleaning up after them; needs --test-app")
    parser.add_argument("--test-app", help="with --write: the target's app id again, to say it is a test app")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per call (default 10)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--out", type=Path, help="also write the report to this file")


def _side(args: argparse.Namespace, side: str, url: str) -> Side:
    values = {flag.replace("-", "_"): getattr(args, f"{side}_{flag.replace('-', '_')}") for flag, _, _ in CREDENTIALS}
    missing = [f"--{side}-{flag}" for flag in ("app-id", "app-secret", "user-token")
               if not values[flag.replace("-", "_")]]
    if missing:
        raise ValueError(f"missing {', '.join(missing)} (or their QUESTGRAPH_CONFORMANCE_* variables)")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{url!r} is not a base URL: give one like https://graph.oculus.com or "
                         "http://127.0.0.1:8080")
    return Side(url, **values)


def main(args: argparse.Namespace) -> int:
    from questgraph.conformance.report import render_json, render_table

    try:
        target, local = _side(args, "target", args.target), _side(args, "local", args.against)
        result = run(target, local, write=args.write, test_app=args.test_app, timeout=args.timeout)
    except ValueError as exc:
        print(f"questgraph conformance: {exc}", file=sys.stderr)
        return 2
    secrets = target.secrets() + local.secrets()
    text = render_json(result, secrets) if args.json else render_table(result, secrets)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 1 if result.differences or result.cleanup_problems else 0
