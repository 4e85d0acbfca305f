"""`pixelvault screen` and `pixelvault plate`: high-content screening data, listed."""

from __future__ import annotations

from typing import Any

import typer

from pixelvault.cli.login import connection
from pixelvault.cli.output import Output, print_json, print_table
from pixelvault.formats.plates import label

screens = typer.Typer(help="Screens (groups of plates).", no_args_is_help=True)
plates = typer.Typer(help="Plates: their wells, fields and runs.", no_args_is_help=True)


def _owner(item: dict[str, object]) -> str:
    details = item.get("omero:details")
    owner = details.get("owner", {}) if isinstance(details, dict) else {}
    return str(owner.get("UserName", "")) if isinstance(owner, dict) else ""


@screens.command("list")
def list_screens(output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """List the screens you may see, with how many plates each holds.

    Example:

        pixelvault screen list
    """
    with connection() as conn:
        found = conn.plates.screens()
    if output is Output.json:
        print_json(found)
        return
    print_table(("id", "name", "plates", "owner"),
                [(s["@id"], s.get("Name", ""), s.get("omero:childCount", 0), _owner(s))
                 for s in found], title=f"{len(found)} screen(s)")


@plates.command("list")
def list_plates(
    screen: int | None = typer.Option(None, "--screen", help="Only this screen's plates."),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """List plates: id, name, rows x columns, owner.

    Examples:

        pixelvault plate list

        pixelvault plate list --screen 3 --output json
    """
    with connection() as conn:
        found = conn.plates.list(screen)
    if output is Output.json:
        print_json(found)
        return
    print_table(("id", "name", "rows x columns", "owner"),
                [(p["@id"], p.get("Name", ""), f"{p['Rows']} x {p['Columns']}", _owner(p))
                 for p in found], title=f"{len(found)} plate(s)")


@plates.command("show")
def show_plate(
    plate_id: int = typer.Argument(..., help="The plate's id."),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """A plate's wells: position, fields and their image ids, and its runs.

    Example:

        pixelvault plate show 3
    """
    with connection() as conn:
        plate = conn.plates.get(plate_id)
        wells = conn.plates.wells(plate_id)
        runs = conn.plates.runs(plate_id)
    if output is Output.json:
        print_json({"plate": plate, "wells": wells, "runs": runs})
        return
    rows: list[dict[str, Any]] = sorted(wells, key=lambda w: (w["Row"], w["Column"]))
    print_table(("well", "id", "fields", "images"), [
        (label(w["Row"], plate["RowNamingConvention"]) +
         label(w["Column"], plate["ColumnNamingConvention"]), w["@id"],
         len(w.get("WellSamples", [])),
         ", ".join(str(s["Image"]["@id"]) for s in w.get("WellSamples", []))) for w in rows],
        title=f"plate {plate_id} {plate.get('Name', '')}: {plate['Rows']} x "
              f"{plate['Columns']}, {len(wells)} well(s), {len(runs)} run(s)")
