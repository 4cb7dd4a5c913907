"""``questgraph federated-users``: the app's federated (cross-play) users through the Graph API, with the
federated app's token (``--token``), as tables or ``--json`` (docs/client.md, "The command line").
``cli.py`` registers and dispatches it."""

from __future__ import annotations

import argparse

COMMANDS = ("federated-users",)
COLUMNS = ["persistent_id", "unique_name", "display_name", "id"]


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    help_text = "federated (cross-play) users of the app (Graph API, with the app's --token)"
    actions = sub.add_parser("federated-users", help=help_text, description=help_text).add_subparsers(
        dest="action", required=True)
    actions.add_parser("list", help="list the app's federated users", description="List the app's federated users.",
                       parents=[common])
    create = actions.add_parser("create", help="create a federated user", description="Create a federated user.",
                                parents=[common])
    create.add_argument("persistent_id", help="the user's id in your own system (unique in the app, immutable)")
    create.add_argument("display_name", help="3 to 30 characters")
    token = actions.add_parser("token", help="generate a user token of a federated user",
                               description="Generate a user token of a federated user.", parents=[common])
    token.add_argument("persistent_id", help="the federated user's persistent id")
    delete = actions.add_parser("delete", help="delete a federated user with their scores and achievements",
                                description="Delete a federated user with their scores and achievements.",
                                parents=[common])
    delete.add_argument("persistent_id", help="the federated user's persistent id")


def dispatch(args: argparse.Namespace) -> str:
    from questgraph import cli

    with cli._graph(args) as client:
        fed = client.federated_users
        if args.action == "list":
            return cli._out(args, list(fed.list()), COLUMNS, many=True)
        if args.action == "create":
            return cli._out(args, [fed.create(args.persistent_id, args.display_name)], COLUMNS)
        if args.action == "token":
            token = fed.gen_access_token(args.persistent_id)
            return cli._json({"access_token": token}) if args.json else token
        fed.delete(args.persistent_id)
        return cli._json({"success": True}) if args.json else f"federated user {args.persistent_id!r} is deleted"
