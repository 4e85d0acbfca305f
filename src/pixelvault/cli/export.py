"""`pixelvault export`: an image as a pyramidal OME-TIFF or an OME-Zarr 0.5 directory."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from pixelvault.cli.output import Output, console, print_json


class Format(StrEnum):
    ome_tiff = "ome-tiff"
    ome_zarr = "ome-zarr"


def export(
    image: str = typer.Argument(..., help="Image id, or Image:ID."),
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
    Fiji read it) or an OME-Zarr 0.5 directory (napari, zarr-python).

    Through the server you are logged in to, or from this machine's repository.

    Examples:

        pixelvault export 12 --format ome-tiff -o cells.ome.tif

        pixelvault export Image:12 --format ome-zarr -o cells.ome.zarr --force
    """
    from pixelvault.cli.login import server_or_none
    from pixelvault.targets import parse_target

    image_id = int(image) if image.isdigit() else parse_target(image, ("Image",))[1]
    conn = None if local else server_or_none()
    if conn is not None:
        with conn:
            written = conn.export(image_id, output_path, fmt.value, overwrite=force)
    else:
        from pixelvault.cli.local import vault_session
        from pixelvault.services.pixels import export as exporting

        with vault_session("pixelvault export") as vault:
            written = exporting.export(vault, vault.local_admin(), image_id, fmt.value,
                                       output_path.expanduser().absolute(), overwrite=force)
    if output is Output.json:
        print_json({"image": image_id, "format": fmt.value, "path": str(written)})
    else:
        console.print(f"wrote image {image_id} as {fmt.value} to {written}", markup=False)

