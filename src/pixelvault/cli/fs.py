"""`pixelvault fs`: what is in ManagedRepository (OMERO's `omero fs`), on this machine."""

from __future__ import annotations

from enum import StrEnum

import typer

from pixelvault.cli.local import vault_session
from pixelvault.cli.output import Output, console, print_json, print_table
from pixelvault.errors import IntegrityError
from pixelvault.sizes import format_size

app = typer.Typer(
    help="Imported filesets in ManagedRepository: list, check, files, usage, import times.\n\n"
         "Runs directly on the repository as the root administrator.\n\n"
         "Examples:\n\n"
         "    pixelvault fs sets --check\n\n"
         "    pixelvault fs ls 12\n\n"
         "    pixelvault fs usage --sum-by user --human-readable\n\n"
         "    pixelvault fs importtime 12 --output json",
    no_args_is_help=True, rich_markup_mode="markdown")


class SumBy(StrEnum):
    user = "user"
    group = "group"
    component = "component"


@app.command("sets")
def sets(
    without_images: bool = typer.Option(False, "--without-images",
                                        help="Only filesets no image uses."),
    check: bool = typer.Option(False, "--check",
                               help="Re-hash every file from disk and report mismatches."),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """List filesets with their files, images and size."""
    from pixelvault.services.objects import filesets

    with vault_session("pixelvault fs sets") as vault:
        actor = vault.local_admin()
        found = filesets.list_filesets(vault.catalog, actor, without_images=without_images)
        if check:
            for info in found:
                info.problems = filesets.check(vault, actor, info)
    if output is Output.json:
        print_json([info.__dict__ for info in found])
    else:
        columns = ["id", "directory", "state", "format", "files", "images", "size", "owner"]
        if check:
            columns.append("check")
        print_table(columns, [
            (i.id, i.directory, i.state, i.format, i.files, i.images, format_size(i.bytes),
             i.owner_id, *((("; ".join(i.problems) or "ok"),) if check else ()))
            for i in found], title=f"{len(found)} filesets")
    bad = sum(1 for info in found if info.problems)
    if bad:
        raise IntegrityError(f"{bad} fileset(s) do not match their checksums (see above); "
                             "restore their files from backup")


@app.command("ls")
def ls(fileset: int = typer.Argument(..., help="Fileset id."),
       output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """The files of a fileset: where they came from and where they are."""
    from pixelvault.services.objects import filesets

    with vault_session("pixelvault fs ls") as vault:
        files = filesets.fileset_files(vault.catalog, vault.local_admin(), fileset)
    if output is Output.json:
        print_json([f.__dict__ for f in files])
        return
    print_table(["id", "client path", "path", "size", "checksum"],
                [(f.id, f.client_path, f.path, f.size, f"{f.hasher} {f.hash}") for f in files])


@app.command("usage")
def usage(
    sum_by: SumBy = typer.Option(SumBy.component, "--sum-by"),
    human_readable: bool = typer.Option(False, "--human-readable", "-H"),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """Bytes on disk of original files (imports and attachments), summed."""
    from pixelvault.services.objects import filesets

    with vault_session("pixelvault fs usage") as vault:
        found = filesets.usage(vault, vault.local_admin(), sum_by.value)
    if output is Output.json:
        print_json([u.__dict__ for u in found])
        return

    def size(n: int) -> str:
        return format_size(n) if human_readable else str(n)

    print_table([sum_by.value, "files", "bytes on disk", "linked in place"],
                [(u.key, u.files, size(u.bytes), size(u.linked)) for u in found])
    console.print(f"total: {size(sum(u.bytes for u in found))}", markup=False)


@app.command("importtime")
def importtime(fileset: int = typer.Argument(..., help="Fileset id."),
               output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """Seconds spent in each phase of a fileset's import."""
    from pixelvault.services.objects import filesets

    with vault_session("pixelvault fs importtime") as vault:
        timings = filesets.import_times(vault.catalog, vault.local_admin(), fileset)
    if output is Output.json:
        print_json(timings)
        return
    print_table(["phase", "seconds"], [(k, f"{v:.3f}") for k, v in timings.items()]
                + [("total", f"{sum(timings.values()):.3f}")])
