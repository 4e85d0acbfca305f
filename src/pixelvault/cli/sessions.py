"""`pixelvault sessions ...`: open sessions, ending them, and the group you work in."""

from __future__ import annotations

import typer

from pixelvault.cli.login import connection
from pixelvault.cli.output import Output, console, print_json, print_table
from pixelvault.errors import NotFoundError

app = typer.Typer(
    help="Your login sessions (administrators: everyone's).\n\n"
         "Examples:\n\n"
         "    pixelvault sessions list\n\n"
         "    pixelvault sessions logout 12\n\n"
         "    pixelvault sessions group lab",
    no_args_is_help=True, rich_markup_mode="markdown")


@app.command("list")
def list_(output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """Open sessions, with their client and when they were last used."""
    with connection() as conn:
        rows = conn.sessions()
    if output is Output.json:
        print_json(rows)
        return
    print_table(["id", "user", "group", "client", "last used", "expires", ""],
                [(r["id"], r["username"], r["group_id"], r["client"][:40], r["last_used_at"],
                  r["expires_at"], "this one" if r["current"] else "") for r in rows])


@app.command("logout")
def logout(session_id: int = typer.Argument(..., help="Session id from `sessions list`.")
           ) -> None:
    """End a session (for example one left open on another machine)."""
    with connection() as conn:
        conn.end_session(session_id)
    console.print(f"ended session {session_id}", markup=False)


@app.command("group")
def group(name: str = typer.Argument(..., help="Group name or id.")) -> None:
    """Work in another of your groups; what you create goes there."""
    with connection() as conn:
        mine = conn.groups.list()
        chosen = next((g for g in mine if name in (g["name"], str(g["id"]))), None)
        if chosen is None:
            raise NotFoundError(f"you are not in a group {name!r}; see `pixelvault group list`")
        conn.switch_group(int(chosen["id"]))
    console.print(f"now working in group {chosen['name']} (id {chosen['id']})", markup=False)
