"""`pixelvault config`: read and change settings (file, env, defaults)."""

from __future__ import annotations

import typer

from pixelvault import config
from pixelvault.cli.output import Output, console, print_json, print_table

app = typer.Typer(
    help="Show and change settings.\n\n"
         "Precedence: PIXELVAULT_<KEY> environment variables, then the config file, "
         "then defaults.\n\n"
         "Examples:\n\n"
         "    pixelvault config set data.dir /mnt/really_big_disk/OMERO\n\n"
         "    pixelvault config get server.port\n\n"
         "    pixelvault config list --output json",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@app.command("set")
def set_(key: str = typer.Argument(..., help="Key, for example data.dir."),
         value: str = typer.Argument(..., help="New value.")) -> None:
    """Store KEY=VALUE in the config file (does not move data: see `admin move`)."""
    setting = config.set_value(key, value)
    overridden = config.KEYS[key].env
    console.print(f"{setting.key} = {setting.value}", markup=False, highlight=False)
    import os

    if overridden in os.environ:
        console.print(f"note: {overridden} is set and overrides the file", style="yellow",
                      markup=False)


@app.command("get")
def get(key: str = typer.Argument(..., help="Key, for example db.url.")) -> None:
    """Print the effective value of KEY."""
    config.lookup_key(key)
    typer.echo(config.load_settings().get(key))


@app.command("unset")
def unset(key: str = typer.Argument(..., help="Key to remove from the config file.")) -> None:
    """Remove KEY from the config file; its default applies again."""
    removed = config.unset_value(key)
    typer.echo(f"{key} unset" if removed else f"{key} was not set in the config file")


@app.command("list")
def list_(output: Output = typer.Option(Output.table, "--output", "-o",
                                        help="table or json")) -> None:
    """Every key with its effective value and where it comes from."""
    settings = config.load_settings()
    rows = [(s.key, s.value, s.source if s.source != "env" else f"env {config.KEYS[s.key].env}")
            for s in settings.values.values()]
    if output is Output.json:
        print_json({"config_file": str(settings.config_file),
                    "values": {s.key: {"value": s.value, "source": s.source}
                               for s in settings.values.values()}})
        return
    print_table(["key", "value", "source"], rows, title=f"config file: {settings.config_file}")
