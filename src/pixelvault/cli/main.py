"""`pixelvault`: the command-line entry point.

Heavy libraries are imported inside the commands that need them, so that
`pixelvault --help` answers at once.
"""

from __future__ import annotations

import sys

import typer

from pixelvault import __version__
from pixelvault.cli import (
    admin,
    annotate,
    config_cmd,
    containers,
    export,
    files,
    fs,
    importer,
    jobs,
    login,
    objects,
    plates,
    principals,
    render,
    rois,
    search,
    serve,
    sessions,
    worker,
)
from pixelvault.errors import PixelvaultError

app = typer.Typer(
    name="pixelvault",
    help="A binary data repository and image server for microscopy, laid out like OMERO's.\n\n"
         "Start with `pixelvault admin init`, then `pixelvault admin start`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="markdown",
)
app.add_typer(config_cmd.app, name="config")
app.add_typer(admin.app, name="admin")
app.add_typer(files.app, name="files")
app.add_typer(fs.app, name="fs")
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.command("login")(login.login)
app.command("logout")(login.logout)
app.add_typer(principals.users, name="user")
app.add_typer(principals.groups, name="group")
app.add_typer(containers.projects, name="project")
app.add_typer(containers.datasets, name="dataset")
app.add_typer(containers.images, name="image")
app.add_typer(sessions.app, name="sessions")
app.add_typer(jobs.app, name="jobs")
app.add_typer(render.app, name="render")
app.add_typer(rois.app, name="roi")
app.add_typer(plates.screens, name="screen")
app.add_typer(plates.plates, name="plate")
app.command("annotate")(annotate.annotate)
app.command("annotations")(annotate.list_annotations)
app.command("download")(annotate.download)
app.command("chgrp")(objects.chgrp)
app.command("chown")(objects.chown)
app.command("delete")(objects.delete)
app.command("import")(importer.import_)
app.command("export")(export.export)
app.command("search")(search.search)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pixelvault {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """A binary data repository and image server for microscopy."""


def main() -> None:
    try:
        app()
    except PixelvaultError as exc:
        from pixelvault.cli.output import errors

        errors.print(f"error: {exc.message}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
