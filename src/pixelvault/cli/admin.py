"""`pixelvault admin`: the repository's life: init, start/stop/status, checks, move."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from pixelvault.cli import fulltext, memo, pyramids
from pixelvault.cli.output import Output, console, errors, print_json, print_table
from pixelvault.cli.queue_view import queue_view

app = typer.Typer(
    help="Create, start, stop, check and move the repository.\n\n"
         "Examples:\n\n"
         "    pixelvault admin init\n\n"
         "    pixelvault admin start && pixelvault admin status\n\n"
         "    pixelvault admin diagnostics --output json\n\n"
         "    pixelvault admin stop && pixelvault admin move /mnt/really_big_disk/OMERO",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
db_app = typer.Typer(help="The catalog database's schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(memo.app, name="memo")
app.add_typer(pyramids.app, name="pyramids")
app.add_typer(fulltext.app, name="search")
app.command("reindex")(fulltext.reindex)
app.command("queue")(queue_view)


@app.command()
def init(
    allow_nonempty: bool = typer.Option(
        False, "--allow-nonempty", help="Create the repository in a directory that has files."),
) -> None:
    """Create the six stores and the identity marker at data.dir, and record it.

    On an existing repository it recreates missing stores (with the server stopped).
    """
    from pixelvault.config import load_settings
    from pixelvault.services.operations.setup import init_repository

    result = init_repository(load_settings(), allow_nonempty=allow_nonempty)
    if result.created:
        console.print(f"created repository {result.uuid} at {result.data_dir}", markup=False)
    elif result.repaired:
        console.print(f"repository {result.uuid} at {result.data_dir}: recreated "
                      f"{', '.join(result.repaired)}", markup=False)
    else:
        console.print(f"repository {result.uuid} at {result.data_dir} is already initialised",
                      markup=False)


@app.command()
def start(timeout: float = typer.Option(60.0, help="Seconds to wait for the server.")) -> None:
    """Start the server in the background; returns once it answers.

    Its pid and log files are in pixelvault's home (see `admin status`).
    """
    from pixelvault.client import fetch_health
    from pixelvault.config import load_settings
    from pixelvault.services.operations import process

    settings = load_settings()
    pid = process.start_background(
        settings, ready=lambda: fetch_health(settings.base_url, 0.5) is not None,
        timeout=timeout)
    console.print(f"pixelvault started (pid {pid}) on {settings.base_url}; "
                  f"log: {settings.log_file}", markup=False)


@app.command()
def stop(timeout: float = typer.Option(30.0, help="Seconds to wait for a clean exit.")) -> None:
    """Stop the server gracefully (SIGTERM; requests in flight finish)."""
    from pixelvault.config import load_settings
    from pixelvault.services.operations import process

    pid = process.stop(load_settings(), timeout=timeout)
    console.print(f"pixelvault stopped (pid {pid})", markup=False)


@app.command()
def status(output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """Is the server running, and is its repository healthy? Exit 0 only if both."""
    from pixelvault.client import fetch_health
    from pixelvault.config import load_settings
    from pixelvault.services.operations import process
    from pixelvault.sizes import format_size

    settings = load_settings()
    pid = process.running_pid(settings)
    answer = fetch_health(settings.base_url) if pid else None
    healthy = answer is not None and answer.status_code == 200
    if output is Output.json:
        print_json({"running": pid is not None, "pid": pid, "url": settings.base_url,
                    "health": answer.body if answer else None})
    elif pid is None:
        console.print("pixelvault is not running", markup=False)
    else:
        body = answer.body if answer else {}
        repo, space = body.get("repository") or {}, body.get("free_space") or {}
        rows = [
            ("server", f"running, pid {pid}, {settings.base_url}"),
            ("status", body.get("status", "not answering")),
            ("repository", f"{repo.get('uuid', '?')} at {repo.get('data_dir', '?')}"),
            ("problem", repo.get("problem") or "none"),
            ("free space", format_size(space["free_bytes"]) if space else "?"),
            ("search", _search_line(body.get("search"))),
            ("version", body.get("version", "?")),
            ("log", str(settings.log_file)),
        ]
        # every server process and job worker alive on every host, by its heartbeat
        rows += [(p.get("kind", "server") if p.get("kind") == "worker" else "process",
                  f"{p['host']} pid {p['pid']}"
                  + ("" if p.get("number") is None else f" (#{p['number']})")
                  + f", {p['version']}, heartbeat {p['last_seen']} s ago")
                 for p in body.get("processes") or []]
        print_table(["", ""], rows)
    raise typer.Exit(0 if healthy else 1)


def _search_line(search: dict[str, object] | None) -> str:
    if not search:
        return "?"
    if search.get("state") == "ok":
        return f"ok, {search.get('documents')} documents, {search.get('lag')} events behind"
    return str(search.get("state"))


@app.command()
def diagnostics(output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """Check the data dir: exists, owner, identity, locking, filesystem, free space.

    Prints one line per check; WARN and FAIL lines say what to do. Exits 1 on any FAIL.
    """
    import getpass
    import os

    from pixelvault.config import load_settings
    from pixelvault.services.operations.diagnostics import Status, run_diagnostics, user_name

    settings = load_settings()
    checks = run_diagnostics(settings)
    failed = any(c.status is Status.FAIL for c in checks)
    if output is Output.json:
        print_json({"data_dir": str(settings.data_dir), "user": user_name(os.geteuid()),
                    "checks": [c.as_dict() for c in checks], "ok": not failed})
    else:
        console.print(f"data dir {settings.data_dir}, running as {getpass.getuser()}",
                      markup=False)
        styles = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "red"}
        for check in checks:
            console.print(check.line(), style=styles[check.status], markup=False,
                          highlight=False, soft_wrap=True)
    raise typer.Exit(1 if failed else 0)


@app.command()
def move(
    destination: Path = typer.Argument(..., help="New data dir (absent or empty)."),
    remove_source: bool = typer.Option(
        False, "--remove-source", help="After a verified copy, delete the old repository."),
) -> None:
    """Move the repository to DESTINATION and switch data.dir (server stopped).

    Same filesystem: an atomic rename. Another filesystem: copy, verify every file's
    checksum, then switch. Interrupted at any point, the old repository stays intact.
    """
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from pixelvault.config import load_settings
    from pixelvault.services.operations.move import move_repository

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TimeRemainingColumn(), console=errors,
                  transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("copying", total=None)

        def progress(done: int, total: int, _name: str) -> None:
            bar.update(task, completed=done, total=total)

        result = move_repository(load_settings(), destination, remove_source=remove_source,
                                 progress=progress)
    how = "renamed" if result.method == "rename" else (
        f"copied and verified {result.files} files")
    console.print(f"{how}: {result.source} -> {result.destination}; data.dir switched",
                  markup=False)
    if result.method == "copy" and not result.source_removed:
        console.print(f"the old copy is still at {result.source}; remove it when you are "
                      "satisfied, or rerun with --remove-source next time", markup=False)


@app.command()
def cleanse(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be removed."),
    older_than: float = typer.Option(
        3600.0, "--older-than", min=0,
        help="Grace period in seconds: younger files may be writes about to commit."),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """Remove files left by crashes: unfinished writes and files without a catalog row.

    Safe beside a running server. Files it does not recognise are listed, never removed.

    Examples:

        pixelvault admin cleanse --dry-run

        pixelvault admin cleanse --older-than 0
    """
    from pixelvault.config import load_settings
    from pixelvault.repository import LockMode
    from pixelvault.services.operations.cleanse import cleanse as run_cleanse
    from pixelvault.services.vault import open_vault
    from pixelvault.sizes import format_size

    vault = open_vault(load_settings())
    try:
        with vault.lock(LockMode.SHARED, "admin cleanse"):
            report = run_cleanse(vault, dry_run=dry_run, grace_seconds=older_than)
    finally:
        vault.close()
    if output is Output.json:
        print_json({"dry_run": dry_run, "bytes": report.bytes_freed,
                    "removed": [{"path": p, "size": n, "reason": r} for p, n, r in report.removed],
                    "kept": [{"path": p, "reason": r} for p, r in report.kept],
                    "directories": report.directories})
        return
    verb = "would remove" if dry_run else "removed"
    rows = [(verb, p, format_size(n), r) for p, n, r in report.removed]
    rows += [("kept", p, "", r) for p, r in report.kept]
    rows += [(verb, d + "/", "", "empty directory") for d in report.directories]
    if rows:
        print_table(["action", "path", "size", "reason"], rows)
    console.print(f"{verb} {len(report.removed)} files ({format_size(report.bytes_freed)}) "
                  f"and {len(report.directories)} empty directories", markup=False)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply catalog schema migrations (take a backup of the database first)."""
    from pixelvault.catalog import migrate
    from pixelvault.catalog.engine import Catalog, check_connection
    from pixelvault.config import load_settings

    catalog = Catalog(load_settings().db_url)
    try:
        check_connection(catalog.engine)
        before, after = migrate.upgrade(catalog.engine)
    finally:
        catalog.dispose()
    if before == after:
        console.print(f"catalog schema already at {after}", markup=False)
    else:
        console.print(f"catalog schema upgraded from {before or 'empty'} to {after}",
                      markup=False)


@db_app.command("status")
def db_status() -> None:
    """Show the catalog's schema revision and the one this pixelvault needs."""
    from pixelvault.catalog import migrate
    from pixelvault.catalog.engine import Catalog, check_connection
    from pixelvault.config import load_settings

    catalog = Catalog(load_settings().db_url)
    try:
        check_connection(catalog.engine)
        current = migrate.current_revision(catalog.engine)
    finally:
        catalog.dispose()
    head = migrate.head_revision()
    console.print(f"catalog schema: {current or 'empty'}; needed: {head}", markup=False)
    raise typer.Exit(0 if current == head else 1)
