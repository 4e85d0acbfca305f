"""`pixelvault annotate`, `pixelvault annotations` and `pixelvault download`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from pixelvault.cli.login import connection
from pixelvault.cli.output import Output, console, print_json, print_table, transfer_bar
from pixelvault.errors import InvalidInputError
from pixelvault.targets import parse_target

PLURAL = {"project": "projects", "dataset": "datasets", "image": "images"}
TARGET_HELP = "Project:ID, Dataset:ID or Image:ID."


def _target(text: str) -> tuple[str, int]:
    kind, object_id = parse_target(text, ("Project", "Dataset", "Image"))
    return PLURAL[kind], object_id


def _pairs(entries: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for entry in entries:
        key, sep, value = entry.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"{entry!r} is not KEY=VALUE")
        pairs.append((key, value))
    return pairs


def _rows(annotations: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    def what(a: dict[str, Any]) -> str:
        if a["file"]:
            return f"{a['file']['name']} ({a['file']['size']} bytes, file {a['file']['id']})"
        if a["values"]:
            return "; ".join(f"{k}={v}" for k, v in a["values"])
        return str(a["text"])

    return [(a["id"], a["type"], what(a), a["owner_id"], a["namespace"]) for a in annotations]


def annotate(
    target: str = typer.Argument(..., help=TARGET_HELP),
    comment: str | None = typer.Option(None, "--comment", "-c", help="A comment's text."),
    tag: str | None = typer.Option(None, "--tag", "-t", help="A tag's name."),
    map_: list[str] = typer.Option([], "--map", "-m",
                                   help="KEY=VALUE; repeat for more pairs, order is kept."),
    file: Path | None = typer.Option(None, "--file", "-f", help="A file to attach."),
    namespace: str = typer.Option("", "--namespace", "-n", help="Namespace (not for files)."),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """Add one comment, tag, key-value map or file attachment to an object.

    Examples:

        pixelvault annotate Project:51 --comment "stained on Monday"

        pixelvault annotate Dataset:7 --map "Cell line=HeLa" --map Stain=DAPI

        pixelvault annotate Image:3 --file analysis.csv
    """
    plural, object_id = _target(target)
    given = [x for x in (comment, tag, map_ or None, file) if x is not None]
    if len(given) != 1:
        raise InvalidInputError("give exactly one of --comment, --tag, --map or --file")
    with connection() as conn:
        objects = getattr(conn, plural)
        if file is not None:
            if not file.is_file():
                raise InvalidInputError(f"{file} is not a readable file")
            with transfer_bar(file.name) as progress:
                made = objects.attach(object_id, file, progress=progress)
        elif map_:
            made = objects.annotate(object_id, "map", values=_pairs(map_), namespace=namespace)
        else:
            kind = "comment" if comment is not None else "tag"
            made = objects.annotate(object_id, kind, comment or tag or "", namespace=namespace)
    if output is Output.json:
        print_json(made)
    else:
        console.print(f"added {made['type']} annotation {made['id']} to {target}",
                      markup=False)


def list_annotations(
    target: str = typer.Argument(..., help=TARGET_HELP),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """List an object's annotations.

    Example:

        pixelvault annotations Project:51
    """
    plural, object_id = _target(target)
    with connection() as conn:
        found = getattr(conn, plural).annotations(object_id)
    if output is Output.json:
        print_json(found)
        return
    print_table(["id", "type", "value", "owner", "namespace"], _rows(found),
                title=f"{len(found)} annotations on {target}")


def _file_id(conn: Any, text: str) -> int:
    if text.isdigit():
        return int(text)
    kind, number = parse_target(text, ("OriginalFile", "FileAnnotation"))
    if kind == "fileannotation":
        found = conn.annotation(number)
        if not found["file"]:
            raise InvalidInputError(f"annotation {number} is a {found['type']}, not a file")
        return int(found["file"]["id"])
    return number


def download(
    source: str = typer.Argument(..., help="OriginalFile:ID, FileAnnotation:ID or a file id."),
    target: str = typer.Argument(".", help="File or directory to write, or - for stdout."),
    force: bool = typer.Option(False, "--force", "-f", help="Replace an existing file."),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """Download a file's bytes, checked against the server's checksum (OMERO's download).

    Nothing is left under the target's name if the transfer breaks, and an
    existing file is only replaced with --force.

    Examples:

        pixelvault download FileAnnotation:12 results/

        pixelvault download OriginalFile:40 - | head
    """
    with connection() as conn:
        file_id = _file_id(conn, source)
        if target == "-":
            saved = conn.download(file_id, sys.stdout.buffer)
            sys.stdout.buffer.flush()
            return
        with transfer_bar(f"file {file_id}") as progress:
            saved = conn.download(file_id, Path(target), progress, overwrite=force)
    if output is Output.json:
        print_json(saved)
    else:
        console.print(f"saved {saved['path']} ({saved['hasher']} {saved['hash']})",
                      markup=False)
