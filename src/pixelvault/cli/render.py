"""`pixelvault render`: rendering settings of images, through the server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from pixelvault.cli.login import connection
from pixelvault.cli.output import Output, console, print_json, print_table

if TYPE_CHECKING:
    from pixelvault.render.settings import Settings

app = typer.Typer(
    help="Rendering settings: which channels show, their windows and colours, the model "
         "and z-projection. Yours, per image; thumbnails follow them.\n\n"
         "Examples:\n\n"
         "    pixelvault render show 12\n\n"
         "    pixelvault render set 12 --c '1|100:2000$00FF00,2|0:4000$FF0000,-3'\n\n"
         "    pixelvault render set 12 --model greyscale --z 5 --projection intmax\n\n"
         "    pixelvault render copy 12 13 14 15\n\n"
         "    pixelvault render reset 12",
    no_args_is_help=True, rich_markup_mode="markdown")


def _show(found: dict[str, object], output: Output) -> None:
    if output is Output.json:
        print_json(found)
        return
    channels = found["channels"]
    assert isinstance(channels, list)
    print_table(["channel", "active", "window", "colour", "lut", "inverted"],
                [(i + 1, "yes" if c["active"] else "no", f"{c['start']:g}:{c['end']:g}",
                  c["color"], c["lut"] or "", "yes" if c["inverted"] else "")
                 for i, c in enumerate(channels)],
                title=f"image {found['image']}: {found['model']}, z {found['default_z']}, "
                      f"t {found['default_t']}, projection {found['projection']} "
                      f"(settings of user {found['owner_id']}, version {found['version']})")


@app.command("show")
def show(image: int = typer.Argument(..., help="Image id."),
         output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """The settings you see for the image."""
    with connection() as conn:
        _show(conn.rendering(image), output)


@app.command("set")
def set_(image: int = typer.Argument(..., help="Image id."),
         c: str | None = typer.Option(None, "--c",
                                      help="OMERO's c=: [-]INDEX[|START:END][$RRGGBB or "
                                           "NAME.lut], comma-separated, 1-based; channels "
                                           "left out are hidden."),
         model: str | None = typer.Option(None, "--model", help="color or greyscale."),
         z: int | None = typer.Option(None, "--z", help="Default z (from 0)."),
         t: int | None = typer.Option(None, "--t", help="Default t (from 0)."),
         projection: str | None = typer.Option(
             None, "--projection", help="normal, intmax, intmean or intsum[|START:END]."),
         invert: list[int] = typer.Option([], "--invert", help="Channel (1-based) to show "
                                                               "inverted; repeat."),
         output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """Change your settings for the image (what you leave out stays as you see it)."""
    from dataclasses import replace

    from pixelvault.render.params import parse
    from pixelvault.services.rendering.settings import as_json, from_json

    with connection() as conn:
        current = conn.rendering(image)
        info = conn.pixels_info(image)
        settings = from_json(current, _blank(len(current["channels"])))
        query = {"c": c} if c is not None else {}
        if model is not None:
            query["m"] = "g" if model.lower().startswith("g") else "c"
        if projection is not None:
            query["p"] = projection
        settings = parse(query, settings, info["size_z"], info["size_t"]).settings
        for index in invert:
            if not 1 <= index <= len(settings.channels):
                raise typer.BadParameter(f"--invert {index}: channels are 1.."
                                         f"{len(settings.channels)}")
            settings = settings.with_channel(index - 1, inverted=True)
        if z is not None:
            settings = replace(settings, default_z=z)
        if t is not None:
            settings = replace(settings, default_t=t)
        _show(conn.set_rendering(image, as_json(settings)), output)


def _blank(channels: int) -> Settings:
    from pixelvault.render.settings import ChannelSettings, Settings

    return Settings(channels=tuple(ChannelSettings() for _ in range(channels)))


@app.command("reset")
def reset(image: int = typer.Argument(..., help="Image id."),
          output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """Your settings back to the defaults (from the channels' statistics and colours)."""
    with connection() as conn:
        _show(conn.reset_rendering(image), output)


@app.command("copy")
def copy(source: int = typer.Argument(..., help="Image whose settings you see."),
         targets: list[int] = typer.Argument(..., help="Images to give them to."),
         output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """The settings you see on SOURCE, saved as yours on every TARGET."""
    with connection() as conn:
        done = conn.copy_rendering(source, targets)
    if output is Output.json:
        print_json({"source": source, "targets": done})
    else:
        console.print(f"copied the settings of image {source} to {len(done)} images",
                      markup=False)
