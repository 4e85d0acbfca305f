"""`pixelvault roi`: an image's regions of interest, listed, exported, imported, removed."""

from __future__ import annotations

from pathlib import Path

import typer

from pixelvault.cli.login import connection
from pixelvault.cli.output import Output, console, print_json, print_table
from pixelvault.errors import InvalidInputError
from pixelvault.targets import parse_id

app = typer.Typer(help="Regions of interest (OMERO's ROIs and shapes) of an image.",
                  no_args_is_help=True)
IMAGE_HELP = "The image: its id, or Image:ID."


def _image(text: str) -> int:
    found = parse_id(text.removeprefix("Image:"))
    if found is None:
        raise InvalidInputError(f"{text!r} is not an image id (42 or Image:42)")
    return found


def _plane(shape: dict[str, object]) -> str:
    return "/".join("*" if shape.get(k) is None else str(shape[k]) for k in ("z", "t", "c"))


@app.command("list")
def list_rois(
    image: str = typer.Argument(..., help=IMAGE_HELP),
    z: int | None = typer.Option(None, "--z", help="Only ROIs with a shape on this Z."),
    t: int | None = typer.Option(None, "--t", help="Only ROIs with a shape on this T."),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """List an image's ROIs: id, name, their shapes' types and planes (Z/T/C, * for all).

    Examples:

        pixelvault roi list 42

        pixelvault roi list Image:42 --z 3 --output json
    """
    image_id = _image(image)
    with connection() as conn:
        found = list(conn.rois.all(image_id)) if z is None and t is None else \
            conn.rois.list(image_id, z=z, t=t, limit=500)["rois"]
    if output is Output.json:
        print_json(found)
        return
    print_table(("id", "name", "shapes", "types", "planes z/t/c"), [
        (r["id"], r["name"], len(r["shapes"]),
         ", ".join(sorted({s["type"] for s in r["shapes"]})),
         ", ".join(sorted({_plane(s) for s in r["shapes"]})[:4])) for r in found],
        title=f"{len(found)} ROI(s) of image {image_id}")


@app.command("export")
def export_rois(
    image: str = typer.Argument(..., help=IMAGE_HELP),
    out: Path = typer.Option(..., "--output-file", "-o", help="The GeoJSON file to write."),
    force: bool = typer.Option(False, "--force", help="Replace an existing file."),
) -> None:
    """Write an image's ROIs as GeoJSON (a FeatureCollection QuPath and napari read).

    Example:

        pixelvault roi export 42 -o shapes.geojson
    """
    image_id = _image(image)
    with connection() as conn:
        written = conn.rois.export_geojson(image_id, out, overwrite=force)
    console.print(f"wrote {out} ({written} bytes)", markup=False)


@app.command("import")
def import_rois(
    image: str = typer.Argument(..., help=IMAGE_HELP),
    source: Path = typer.Argument(..., help="A GeoJSON file (QuPath's export, or ours)."),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """Add a GeoJSON file's features to an image as ROIs: all of them, or none if one
    is bad (the error names the feature).

    Example:

        pixelvault roi import 42 annotations.geojson
    """
    image_id = _image(image)
    if not source.is_file():
        raise InvalidInputError(f"{source} is not a readable file")
    with connection() as conn:
        added = conn.rois.import_geojson(image_id, source)
    if output is Output.json:
        print_json(added)
    else:
        console.print(f"added {added['rois']} ROI(s), {added['shapes']} shape(s) to image "
                      f"{image_id}", markup=False)


@app.command("delete")
def delete_rois(roi_ids: list[int] = typer.Argument(..., help="ROI ids.")) -> None:
    """Remove ROIs with their shapes.

    Example:

        pixelvault roi delete 7 8 9
    """
    with connection() as conn:
        for roi_id in roi_ids:
            conn.rois.delete(roi_id)
    console.print(f"removed {len(roi_ids)} ROI(s)", markup=False)
