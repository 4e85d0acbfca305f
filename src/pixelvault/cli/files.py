"""`pixelvault files`: original files in the Files store, directly on this machine."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import typer

from pixelvault.cli.local import vault_session
from pixelvault.cli.output import Output, console, errors, print_json, print_table
from pixelvault.errors import IntegrityError, InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from pixelvault.catalog.models import OriginalFile

app = typer.Typer(
    help="Store, read, list, verify and delete original files (Files store).\n\n"
         "Runs directly on the repository as the root administrator, beside a running "
         "server or without one.\n\n"
         "Examples:\n\n"
         "    pixelvault files put notes.pdf --checksum-algorithm MD5-128\n\n"
         "    pixelvault files get 12 -o copy.pdf\n\n"
         "    pixelvault files get 12 --range 0-1023 > head.bin\n\n"
         "    pixelvault files ls --output json",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def _row(row: OriginalFile) -> dict[str, object]:
    return {"id": row.id, "name": row.name, "size": row.size, "mimetype": row.mimetype,
            "hasher": row.hasher, "hash": row.hash, "path": row.path,
            "created": row.created_at.isoformat() if row.created_at else None}


def _chunks(handle: BinaryIO, on_chunk: object = None) -> Iterator[bytes]:
    while chunk := handle.read(1 << 20):
        if callable(on_chunk):
            on_chunk(len(chunk))
        yield chunk


@app.command()
def put(
    paths: list[Path] = typer.Argument(..., help="Files to store.", exists=False),
    name: str | None = typer.Option(None, help="Name to record (one file only)."),
    mimetype: str | None = typer.Option(None, help="MIME type (guessed from the name)."),
    checksum_algorithm: str = typer.Option("SHA1-160", "--checksum-algorithm", "-a",
                                           help="SHA1-160, MD5-128, Murmur3-128, Murmur3-32, "
                                                "CRC-32, Adler-32, File-Size-64, BLAKE3-256"),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """Store files; prints each one's id and checksum."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from pixelvault.repository.checksums import canonical
    from pixelvault.services.objects.files import put_file

    checksum_algorithm = canonical(checksum_algorithm)
    if name is not None and len(paths) != 1:
        raise InvalidInputError("--name needs exactly one file")
    for path in paths:
        if not path.is_file():
            raise NotFoundError(f"{path} is not a readable file")
    stored = []
    with vault_session() as vault:
        actor = vault.local_admin()
        with Progress("{task.description}", BarColumn(), DownloadColumn(),
                      TransferSpeedColumn(), console=errors, transient=True,
                      disable=not sys.stderr.isatty()) as bar:
            for path in paths:
                size = path.stat().st_size
                task = bar.add_task(path.name, total=size)
                with path.open("rb") as handle:
                    row = put_file(vault, actor, _chunks(
                        handle, lambda n, t=task: bar.advance(t, n)),
                        name=name or path.name, mimetype=mimetype,
                        algorithm=checksum_algorithm, expected_size=size)
                stored.append(row)
    if output is Output.json:
        print_json([_row(r) for r in stored])
    else:
        print_table(["id", "name", "size", checksum_algorithm],
                    [(r.id, r.name, r.size, r.hash) for r in stored])


def _parse_range(text: str) -> tuple[int, int | None]:
    start, sep, end = text.partition("-")
    try:
        first = int(start)
        last = int(end) + 1 if end else None
    except ValueError:
        raise InvalidInputError(
            f"--range {text!r} is not START-END (bytes, END inclusive)"
        ) from None
    if not sep or first < 0 or (last is not None and last <= first):
        raise InvalidInputError(f"--range {text!r} is not START-END with START <= END")
    return first, last


@app.command()
def get(
    file_id: int = typer.Argument(..., help="OriginalFile id."),
    out: Path | None = typer.Option(None, "-o", "--out", help="Write here instead of stdout."),
    byte_range: str | None = typer.Option(None, "--range", help="START-END, END inclusive."),
) -> None:
    """Write a file's bytes (or a byte range) to stdout or to a path."""
    from pixelvault.services.objects.files import read_file

    start, end = _parse_range(byte_range) if byte_range else (0, None)
    with vault_session() as vault:
        chunks = read_file(vault, vault.local_admin(), file_id, start, end)
        if out is None:
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return
        tmp = out.with_name(f".{out.name}.partial")
        with tmp.open("wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        os.replace(tmp, out)


@app.command("ls")
def ls(
    offset: int = typer.Option(0, min=0), limit: int = typer.Option(200, min=1, max=500),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """List stored files."""
    from pixelvault.services.objects.files import list_files

    with vault_session() as vault:
        rows, total = list_files(vault, vault.local_admin(), offset, limit)
    if output is Output.json:
        print_json({"data": [_row(r) for r in rows],
                    "meta": {"offset": offset, "limit": limit, "totalCount": total}})
        return
    print_table(["id", "name", "size", "mimetype", "hasher", "hash"],
                [(r.id, r.name, r.size, r.mimetype, r.hasher, r.hash) for r in rows],
                title=f"{len(rows)} of {total} files")


@app.command()
def rm(file_ids: list[int] = typer.Argument(..., help="OriginalFile ids.")) -> None:
    """Delete files: the catalog row first, then the bytes."""
    from pixelvault.services.objects.files import delete_file

    with vault_session() as vault:
        actor = vault.local_admin()
        for file_id in file_ids:
            row = delete_file(vault, actor, file_id)
            console.print(f"deleted file {row.id} ({row.name})", markup=False)


@app.command()
def verify(file_ids: list[int] = typer.Argument(..., help="OriginalFile ids.")) -> None:
    """Re-hash files from disk and compare with the catalog; exit 65 on a mismatch."""
    from pixelvault.services.objects.files import verify_file

    bad = []
    with vault_session() as vault:
        actor = vault.local_admin()
        for file_id in file_ids:
            row, found = verify_file(vault, actor, file_id)
            if found == row.hash:
                console.print(f"OK    {row.id} {row.hasher} {found}", markup=False)
            else:
                console.print(f"FAIL  {row.id} {row.hasher} expected {row.hash}, found {found}",
                              markup=False)
                bad.append(file_id)
    if bad:
        raise IntegrityError(
            f"{len(bad)} file(s) do not match their checksum ({', '.join(map(str, bad))}); "
            "restore them from backup"
        )
