"""`pixelvault project ...`, `pixelvault dataset ...` and `pixelvault image ...`."""

from __future__ import annotations

from typing import Any

import typer

from pixelvault.cli.login import connection
from pixelvault.cli.output import Output, console, print_json, print_table


def _group(kind: str, plural: str, *, creatable: bool = True) -> typer.Typer:
    example = (f"    pixelvault {kind} create 'Mitosis 2026' --description 'HeLa, H2B-GFP'\n\n"
               if creatable else "")
    app = typer.Typer(
        help=f"{kind.title()}s you can see on the server you are logged in to.\n\n"
             f"Examples:\n\n{example}"
             f"    pixelvault {kind} list --owner 3 --output json"
             + ("\n\n    pixelvault image show 12" if kind == "image" else ""),
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


def _quantity(value: dict[str, Any] | None) -> str:
    return "" if value is None else f"{value['value']:g} {value['unit']}"


@images.command("show")
def show_image(
    image_id: int,
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """Everything the import recorded: dimensions, pixel type, physical sizes,
    channels (names, wavelengths, colours, min/max), fileset and datasets."""
    with connection() as conn:
        image = conn.images.metadata(image_id)
    if output is Output.json:
        print_json(image)
        return
    pixels = image["pixels"] or {}
    fileset = image["fileset"]
    print_table(["", ""], [
        ("name", image["name"]), ("description", image["description"]),
        ("owner", f"{image['owner']['username']} ({image['owner']['id']})"),
        ("group", f"{image['group']['name']} ({image['group']['id']})"),
        ("acquired", image["acquisition_date"]), ("created", image["created_at"]),
        ("fileset", fileset and f"{fileset['id']} ({fileset['format']}, series "
                                f"{fileset['series']})"),
        ("datasets", ", ".join(f"{d['name']} ({d['id']})" for d in image["datasets"])),
        ("XYZCT", "x".join(str(pixels.get(f"size_{a}", "")) for a in "xyzct")),
        ("pixel type", f"{pixels.get('pixel_type', '')} ({pixels.get('significant_bits')} "
                       "significant bits)"),
        ("pixel size", " x ".join(_quantity(pixels.get(f"physical_size_{a}"))
                                  for a in "xyz" if pixels.get(f"physical_size_{a}"))),
        ("time increment", _quantity(pixels.get("time_increment"))),
        ("levels", ", ".join(f"{x}x{y}" for x, y in pixels.get("levels", []))),
    ], title=f"image {image['id']}")
    print_table(["channel", "name", "emission", "excitation", "colour", "min", "max"],
                [(c["index"], c["name"], _quantity(c["emission_wavelength"]),
                  _quantity(c["excitation_wavelength"]), c["color"], c["min"], c["max"])
                 for c in image["channels"]])
