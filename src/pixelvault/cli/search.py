"""`pixelvault search`: find projects, datasets, images, filesets and annotations."""

from __future__ import annotations

import typer

from pixelvault.cli.login import connection
from pixelvault.cli.output import Output, print_json, print_table


def search(
    query: str = typer.Argument(..., help="Terms, field:term, \"phrases\", AND/OR/NOT, "
                                          "gfp*, created:[2026-01-01 TO 2026-06-30]."),
    kind: list[str] = typer.Option([], "--type", "-t",
                                   help="image, dataset, project, fileset or annotation; "
                                        "repeat for several."),
    owner: int | None = typer.Option(None, "--owner", help="Owner's user id."),
    group: int | None = typer.Option(None, "--group", help="Group id."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=500),
    offset: int = typer.Option(0, "--offset", min=0),
    sort: str = typer.Option("relevance", "--sort", help="relevance, newest or oldest."),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """Search what you may read, through the server you are logged in to.

    Examples:

        pixelvault search gfp

        pixelvault search 'tag:mitosis AND "cell line":hela' --type image

        pixelvault search 'h2b* NOT comment:blurry' --sort newest --output json
    """
    with connection() as conn:
        found = conn.search(query, types=kind or None, owner=owner, group=group, limit=limit,
                            offset=offset, sort=sort, full=True)
    if output is Output.json:
        print_json(found["hits"])
        return
    print_table(["type", "id", "name", "score", "snippet"],
                [(h["type"], h["id"], h["name"], h["score"],
                  (h.get("snippet") or "").replace("<b>", "[").replace("</b>", "]")[:120])
                 for h in found["hits"]],
                title=f"{found['total']} found, {len(found['hits'])} shown "
                      f"(from {found['offset'] + 1})" if found["hits"] else
                      f"{found['total']} found")
