"""`pixelvault export`: an image as a pyramidal OME-TIFF or an OME-Zarr 0.5 directory, a
plate as an OME-Zarr 0.5 plate."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from pixelvault.cli.output import Output, console, print_json


class Format(StrEnum):
    ome_tiff = "ome-tiff"
    ome_zarr = "ome-zarr"


def export(
    image: str = typer.Argument(..., help="Image id, Image:ID, or Plate:ID."),
    output_path: Path = typer.Option(..., "--out", "-o",
                                     help="The file (OME-TIFF) or directory (OME-Zarr) "
                                          "to write."),
    fmt: Format = typer.Option(Format.ome_tiff, "--format", "-f"),
    force: bool = typer.Option(False, "--force", help="Replace what is there."),
    local: bool = typer.Option(False, "--local",
                               help="Read this machine's repository even when logged in."),
    output: Output = typer.Option(Output.table, "--output", help="table or json"),
) -> None:
    """Export an image with every resolution level: a pyramidal OME-TIFF (tifffile, QuPath,
    Fiji read it) or an OME-Zarr 0.5 directory (napari, zarr-python); or a plate, with
    every field, as an OME-Zarr 0.5 plate.

    Through the server you are logged in to, or from this machine's repository.

    Examples:

        pixelvault export 12 --format ome-tiff -o cells.ome.tif

        pixelvault export Image:12 --format ome-zarr -o cells.ome.zarr --force

        pixelvault export Plate:3 --format ome-zarr -o screen.ome.zarr
    """
    from pixelvault.cli.login import server_or_none
    from pixelvault.errors import InvalidInputError
    from pixelvault.targets import parse_target

    kind, object_id = ("image", int(image)) if image.isdigit() else \
        parse_target(image, ("Image", "Plate"))
    if kind == "plate" and fmt is not Format.ome_zarr:
        raise InvalidInputError("a plate is exported as OME-Zarr: add --format ome-zarr")
    target = output_path.expanduser().absolute()
    conn = None if local else server_or_none()
    if conn is not None:
        with conn:
            written = conn.export_plate(object_id, target, overwrite=force) \
                if kind == "plate" else conn.export(object_id, target, fmt.value,
                                                    overwrite=force)
    else:
        from pixelvault.cli.local import vault_session
        from pixelvault.services.pixels import export as exporting

        with vault_session("pixelvault export") as vault:
            actor = vault.local_admin()
            written = exporting.export_plate(vault, actor, object_id, target,
                                             overwrite=force) if kind == "plate" else \
                exporting.export(vault, actor, object_id, fmt.value, target, overwrite=force)
    if output is Output.json:
        print_json({kind: object_id, "format": fmt.value, "path": str(written)})
    else:
        console.print(f"wrote {kind} {object_id} as {fmt.value} to {written}", markup=False)

