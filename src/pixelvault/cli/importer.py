"""`pixelvault import`: files and directories into ManagedRepository, as images."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pixelvault.cli.output import Output, console, errors, print_json, print_table
from pixelvault.errors import IncompleteError, InvalidInputError

if TYPE_CHECKING:
    from pixelvault.services.imports import Plan

SKIPPABLE = ("checksum", "minmax", "thumbnails")


def _plan_rows(plan: Plan) -> list[tuple[Any, ...]]:
    return [(index, fileset.format, len(fileset.files), fileset.size, s.index, s.name,
             f"{s.size_x}x{s.size_y}x{s.size_z}x{s.size_c}x{s.size_t}", s.pixel_type)
            for index, fileset in enumerate(plan.filesets, 1) for s in fileset.series]


def _plan_json(plan: Plan) -> dict[str, Any]:
    return {"filesets": [{"format": f.format, "files": [str(p) for p in f.files],
                          "bytes": f.size,
                          "images": [{"series": s.index, "name": s.name, "size_x": s.size_x,
                                      "size_y": s.size_y, "size_z": s.size_z,
                                      "size_c": s.size_c, "size_t": s.size_t,
                                      "pixel_type": s.pixel_type} for s in f.series]}
                         for f in plan.filesets],
            "skipped": [{"path": str(s.path), "reason": s.reason} for s in plan.skipped]}


def import_(
    paths: list[Path] = typer.Argument(..., help="Files and directories (recursive)."),
    dataset: str | None = typer.Option(None, "--dataset", "-d",
                                       help="Dataset id, or a name (created if new)."),
    checksum_algorithm: str | None = typer.Option(
        None, "--checksum-algorithm",
        help="SHA1-160 (OMERO's, the default), MD5-128, Murmur3-128, CRC-32, Adler-32, "
             "BLAKE3-256, ..."),
    skip: list[str] = typer.Option(
        [], "--skip",
        help="minmax: no channel statistics; checksum: compare sizes only (File-Size-64, "
             "as OMERO's --skip checksum), no hashing; thumbnails: none made now (job "
             "workers make them on PostgreSQL; otherwise each is made when first asked for)."),
    parallel: int = typer.Option(1, "--parallel", "-j", min=1, max=32,
                                 help="Filesets imported at once (on this machine)."),
    name: str | None = typer.Option(None, "--name", "-n", help="Image name (default: file)."),
    description: str | None = typer.Option(None, "--description", "-x"),
    user: str | None = typer.Option(None, "--user",
                                    help="Import for this user, in their default group "
                                         "(default: root)."),
    transfer: str | None = typer.Option(
        None, "--transfer", "-t",
        help="upload (through a server, its default), or in place: cp (the default "
             "without a server), cp_rm, ln, ln_rm, ln_s (hard or symbolic links; *_rm "
             "remove the source after a successful import). In place through a server is "
             "for administrators whose files the server sees at the same paths."),
    local: bool = typer.Option(False, "--local",
                               help="Import into this machine's repository directly, even "
                                    "when logged in to a server."),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="List the filesets and images it would create."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """Import images: each file, with the files that belong to it, becomes a fileset in
    ManagedRepository, and each of its series an image.

    Logged in (`pixelvault login`) to a server that answers, the files are
    uploaded to it as you, resuming after dropped connections. Otherwise (or
    with --local) they go straight into this machine's repository, as root or
    --user. Files that cannot be imported are reported and the others go on; a
    failed fileset leaves nothing behind.

    Examples:

        pixelvault import ~/data/2026-11-24 --dataset "Mitosis" --dry-run

        pixelvault import cells.ome.tif --local --user alice --output json

        pixelvault import /mnt/scope/run42 --transfer ln_s    # in place, no copy
    """
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from pixelvault.catalog.principals import actor_for
    from pixelvault.cli.local import vault_session
    from pixelvault.cli.login import server_or_none
    from pixelvault.client import importing
    from pixelvault.errors import NotFoundError
    from pixelvault.repository.checksums import canonical
    from pixelvault.services import imports

    for item in skip:
        if item not in SKIPPABLE:
            raise InvalidInputError(f"--skip takes {', '.join(SKIPPABLE)}, not {item!r}")
    if "checksum" in skip:
        if checksum_algorithm is not None and canonical(checksum_algorithm) != "File-Size-64":
            raise InvalidInputError("--skip checksum and --checksum-algorithm "
                                    f"{checksum_algorithm} contradict each other; give one")
        checksum_algorithm = "File-Size-64"
    algorithm = canonical(checksum_algorithm or "SHA1-160")
    plan = imports.plan(paths)
    for skipped in plan.skipped:
        errors.print(f"skipped {skipped.path}: {skipped.reason}", markup=False)
    if dry_run:
        if output is Output.json:
            print_json(_plan_json(plan))
        else:
            print_table(["fileset", "format", "files", "bytes", "series", "name", "XYZCT",
                         "type"], _plan_rows(plan),
                        title=f"would import {len(plan.filesets)} filesets")
        if plan.skipped:
            raise IncompleteError(f"{len(plan.skipped)} file(s) would be skipped (see above)")
        return
    if transfer is not None and transfer not in ("upload", *imports.LOCAL_TRANSFERS):
        raise InvalidInputError(f"--transfer takes upload, {', '.join(imports.LOCAL_TRANSFERS)}"
                                f"; not {transfer!r}")
    conn = None if local else server_or_none()
    if conn is None and transfer == "upload":
        raise InvalidInputError("--transfer upload needs a server: `pixelvault login` first")
    if conn is not None:
        if user is not None:
            raise InvalidInputError("--user is for imports into the local repository "
                                    "(--local); through a server you import as yourself")
        total = sum(f.size for f in plan.filesets)
        with Progress("{task.description}", BarColumn(), DownloadColumn(),
                      TransferSpeedColumn(), TimeRemainingColumn(), console=errors,
                      transient=True, disable=quiet or not sys.stderr.isatty()) as bar:
            task = bar.add_task(f"{len(plan.filesets)} filesets", total=total)
            with conn:
                remote = importing.import_plan(
                    conn, plan, dataset=dataset, name=name, description=description,
                    minmax="minmax" not in skip, algorithm=algorithm,
                    progress=lambda n: bar.advance(task, n), transfer=transfer or "upload",
                    thumbnails="thumbnails" not in skip)
        _report(remote, quiet, output, already_said=True)
        return
    with vault_session("pixelvault import") as vault:
        if user is None:
            actor = vault.local_admin()
        else:
            with vault.catalog.session() as session:
                found = actor_for(session, user)
            if found is None:
                raise NotFoundError(f"no user {user!r}; see `pixelvault user list`")
            actor = found
        options = imports.ImportOptions(
            algorithm=algorithm, minmax="minmax" not in skip, transfer=transfer or "cp",
            thumbnails="thumbnails" not in skip,
            dataset_id=imports.resolve_dataset(vault.catalog, actor, dataset),
            name=name, description=description)
        total = sum(f.size for f in plan.filesets)
        with Progress("{task.description}", BarColumn(), DownloadColumn(),
                      TransferSpeedColumn(), TimeRemainingColumn(), console=errors,
                      transient=True, disable=quiet or not sys.stderr.isatty()) as bar:
            task = bar.add_task(f"{len(plan.filesets)} filesets", total=total)
            outcome = imports.run(vault, actor, plan, options,
                                  progress=lambda n: bar.advance(task, n), parallel=parallel)
    _report({"imported": [imports.describe(r) for r in outcome.imported],
             "failed": [{"path": str(f.fileset.files[0]), "reason": f.reason}
                        for f in outcome.failed],
             "skipped": [{"path": str(s.path), "reason": s.reason} for s in plan.skipped]},
            quiet, output, already_said=True)


def _report(outcome: dict[str, Any], quiet: bool, output: Output,
            already_said: bool = False) -> None:
    for failure in outcome["failed"]:
        errors.print(f"failed {failure['path']}: {failure['reason']}", markup=False)
    if not already_said:
        for skipped in outcome["skipped"]:
            errors.print(f"skipped {skipped['path']}: {skipped['reason']}", markup=False)
    if output is Output.json:
        print_json(outcome)
    elif not quiet:
        print_table(["fileset", "images", "files", "bytes", "directory"],
                    [(r["fileset"], ", ".join(map(str, r["images"])), r["files"], r["bytes"],
                      r["directory"]) for r in outcome["imported"]],
                    title=f"imported {len(outcome['imported'])} filesets")
    problems = len(outcome["failed"]) + len(outcome["skipped"])
    if problems:
        raise IncompleteError(f"{problems} file(s) or fileset(s) were not imported (see "
                              "above); everything else was")
    if not outcome["imported"]:
        console.print("nothing to import", markup=False)
