"""`pixelvault serve`: run the server in the foreground."""

from __future__ import annotations

import logging
import os
import signal
import socket

import typer

from pixelvault.cli.output import errors
from pixelvault.errors import PixelvaultError, RepositoryError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PixelvaultError(
            f"cannot listen on {host}:{port}: {exc.strerror} (another server?); choose "
            "another port with `pixelvault config set server.port N`"
        ) from None
    return sock


def _exit_cleanly(_signum: int, _frame: object) -> None:
    """uvicorn re-raises SIGTERM after its graceful shutdown; end with status 0 instead,
    through our own clean-up (lock, pid file)."""
    raise SystemExit(0)


def serve(
    first_run: bool = typer.Option(
        False, "--first-run",
        help="On the embedded defaults, create the repository and catalog if none exist yet.",
    ),
) -> None:
    """Run the server in the foreground (Ctrl-C or SIGTERM stops it cleanly).

    Examples:

        pixelvault serve

        PIXELVAULT_SERVER_PORT=8080 pixelvault serve
    """
    import uvicorn

    from pixelvault.config import load_settings
    from pixelvault.repository import LockMode
    from pixelvault.server.app import create_app
    from pixelvault.services.access import principals
    from pixelvault.services.operations import diagnostics, process, setup
    from pixelvault.services.vault import open_vault

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    settings = load_settings()
    if first_run and setup.needs_first_init(settings):
        result = setup.init_repository(settings)
        errors.print(f"created repository {result.uuid} at {result.data_dir}", markup=False)
    vault = open_vault(settings)
    try:
        generated = principals.bootstrap_root_password(
            vault.catalog, os.environ.get("PIXELVAULT_ROOT_PASSWORD"))
        if generated:
            errors.print(f"the administrator is root, password: {generated} (shown once; "
                         "set PIXELVAULT_ROOT_PASSWORD before the first start to choose it, "
                         "or log in and change it with `pixelvault user passwd`)",
                         markup=False)
        checks = diagnostics.repository_checks(vault)
        for check in checks:
            if check.status is not diagnostics.Status.OK:
                errors.print(check.line(), markup=False, highlight=False, soft_wrap=True)
        blocking = diagnostics.blocking(checks)
        if blocking:
            first = blocking[0]
            raise RepositoryError(
                f"refusing to start: {first.name}: {first.detail}; {first.fix}"
            )
        with process.pid_file(settings), vault.lock(LockMode.SHARED, "pixelvault serve") as lock:
            sock = _bind(settings.host, settings.port)
            app = create_app(vault, lock)
            server = uvicorn.Server(uvicorn.Config(
                app, log_level="info", access_log=False, lifespan="on",
                timeout_graceful_shutdown=10, http=settings.http_parser,
            ))
            logging.getLogger("pixelvault").info(
                "serving repository %s (%s) on %s", vault.uuid, vault.layout.root,
                settings.base_url,
            )
            errors.print(f"open {settings.base_url}/ in a browser for the web application",
                         markup=False)
            from pixelvault.server.routes.webapp import missing_packages

            if missing_packages():
                errors.print(missing_packages(), markup=False)
            signal.signal(signal.SIGTERM, _exit_cleanly)
            server.run(sockets=[sock])
    finally:
        vault.close()
