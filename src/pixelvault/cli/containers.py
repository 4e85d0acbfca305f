"""`pixelvault project ...` and `pixelvault dataset ...`."""

from __future__ import annotations

import typer

from pixelvault.cli.login import connection
from pixelvault.cli.output import Output, console, print_json, print_table


def _group(kind: str, plural: str, *, creatable: bool = True) -> typer.Typer:
    example = (f"    pixelvault {kind} create 'Mitosis 2026' --description 'HeLa, H2B-GFP'\n\n"
               if creatable else "")
    app = typer.Typer(
        help=f"{kind.title()}s you can see on the server you are logged in to.\n\n"
             f"Examples:\n\n{example}"
             f"    pixelvault {kind} list --owner 3 --output json",
        no_args_is_help=True, rich_markup_mode="markdown")

    @app.command("list")
    def list_(
        offset: int = typer.Option(0, min=0), limit: int = typer.Option(200, min=1, max=500),
        owner: int | None = typer.Option(None, help="Only this user's (id)."),
        group: int | None = typer.Option(None, help="Only this group's (id)."),
        output: Output = typer.Option(Output.table, "--output", "-o"),
    ) -> None:
        """List with paging and filters."""
        with connection() as conn:
            page = getattr(conn, plural).list(offset=offset, limit=limit, owner=owner,
                                              group=group)
        if output is Output.json:
            print_json(page)
            return
        print_table(["id", "name", "owner", "group", "description"],
                    [(r["id"], r["name"], r["owner_id"], r["group_id"], r["description"])
                     for r in page["data"]],
                    title=f"{len(page['data'])} of {page['total']} {plural}")

    if not creatable:
        return app

    @app.command("create")
    def create(
        name: str,
        description: str = typer.Option("", help="Free text."),
        group: int | None = typer.Option(None, help="Group id (default: your current)."),
    ) -> None:
        """Create one in your current group (or --group)."""
        with connection() as conn:
            row = getattr(conn, plural).create(name, description, group)
        console.print(f"created {kind} {row['id']}: {row['name']}", markup=False)

    return app


projects = _group("project", "projects")
datasets = _group("dataset", "datasets")
images = _group("image", "images", creatable=False)  # images come from import
