"""`pixelvault user ...` and `pixelvault group ...`, in OMERO's forms."""

from __future__ import annotations

from typing import Any

import typer

from pixelvault.cli.login import connection
from pixelvault.cli.output import Output, console, print_json, print_table
from pixelvault.errors import InvalidInputError, NotFoundError

users = typer.Typer(
    help="Users of the server you are logged in to.\n\n"
         "Examples:\n\n"
         "    pixelvault user add alice Alice Liddell --group-name lab -P secret123\n\n"
         "    pixelvault user list --output json\n\n"
         "    pixelvault user passwd",
    no_args_is_help=True, rich_markup_mode="markdown")
groups = typer.Typer(
    help="Groups of the server you are logged in to.\n\n"
         "Examples:\n\n"
         "    pixelvault group add lab --type read-annotate\n\n"
         "    pixelvault group adduser lab alice\n\n"
         "    pixelvault group list",
    no_args_is_help=True, rich_markup_mode="markdown")


def find_principal(items: list[dict[str, Any]], key: str, wanted: str,
                   kind: str) -> dict[str, Any]:
    """A user or group by name, id, or OMERO's ``Experimenter:ID`` / ``Group:ID``."""
    wanted = wanted.split(":", 1)[1] if wanted.startswith(("Experimenter:", "Group:")) \
        else wanted
    for item in items:
        if item[key] == wanted or str(item["id"]) == wanted:
            return item
    raise NotFoundError(f"no {kind} {wanted!r} that you can see")


@users.command("add")
def user_add(
    username: str, first_name: str, last_name: str,
    group_name: list[str] = typer.Option(..., "--group-name", "-g",
                                         help="Group(s); the first is the default."),
    password: str | None = typer.Option(None, "-P", "--userpassword",
                                        help="Password (prompted if not given)."),
    admin: bool = typer.Option(False, "--admin", help="Make an administrator."),
) -> None:
    """Create a user (administrators)."""
    password = password or typer.prompt("Password for the new user", hide_input=True,
                                        confirmation_prompt=True)
    with connection() as conn:
        user = conn.users.create(username, first_name, last_name, group_name,
                                 password=password, admin=admin)
    console.print(f"added user {user['username']} (id {user['id']})", markup=False)


@users.command("list")
def user_list(output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """Users you can see: yourself and the members of your groups."""
    with connection() as conn:
        rows = conn.users.list()
    if output is Output.json:
        print_json(rows)
        return
    print_table(["id", "username", "first name", "last name", "admin", "groups"],
                [(u["id"], u["username"], u["first_name"], u["last_name"],
                  "yes" if u["is_admin"] else "", ",".join(map(str, u["group_ids"])))
                 for u in rows])


@users.command("passwd")
def user_passwd(username: str | None = typer.Argument(
        None, help="Whose password (administrators); default yourself.")) -> None:
    """Change a password; the user's sessions end (log in again)."""
    with connection() as conn:
        me = conn.whoami()
        if username in (None, me["username"]):
            target_id = int(me["user_id"])
        else:
            found = find_principal(conn.users.list(), "username", username or "", "user")
            target_id = int(found["id"])
        old = None
        if target_id == me["user_id"]:
            old = typer.prompt("Current password", hide_input=True)
        new = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
        conn.users.set_password(target_id, new, old)
    console.print("password changed; sessions of that user were ended", markup=False)


@groups.command("add")
def group_add(
    name: str,
    type: str = typer.Option("private", "--type",
                             help="private, read-only, read-annotate or read-write"),
    description: str = typer.Option("", help="What the group is for."),
) -> None:
    """Create a group (administrators)."""
    with connection() as conn:
        group = conn.groups.create(name, type, description)
    console.print(f"added group {group['name']} (id {group['id']}, {group['permissions']})",
                  markup=False)


@groups.command("list")
def group_list(output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """Your groups (administrators: all)."""
    with connection() as conn:
        rows = conn.groups.list()
    if output is Output.json:
        print_json(rows)
        return
    print_table(["id", "name", "permissions", "description"],
                [(g["id"], g["name"], g["permissions"], g["description"]) for g in rows])


@groups.command("adduser")
def group_adduser(
    group: str = typer.Argument(..., help="Group name or id."),
    usernames: list[str] = typer.Argument(..., help="User names or ids."),
    as_owner: bool = typer.Option(False, "--as-owner", help="Make them owners of the group."),
) -> None:
    """Add users to a group (administrators and the group's owners)."""
    with connection() as conn:
        found = find_principal(conn.groups.list(), "name", group, "group")
        known = conn.users.list()
        for username in usernames:
            user = find_principal(known, "username", username, "user")
            conn.groups.add_user(found["id"], user["id"], owner=as_owner)
            console.print(f"added {user['username']} to {found['name']}", markup=False)
    if not usernames:
        raise InvalidInputError("name at least one user")
