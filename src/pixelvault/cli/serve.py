"""`pixelvault serve`: run the server in the foreground."""

from __future__ import annotations

import logging
import os
import signal
import socket
from typing import TYPE_CHECKING

import typer

from pixelvault.cli.output import errors
from pixelvault.errors import PixelvaultError, RepositoryError

if TYPE_CHECKING:
    import asyncio

    from pixelvault.services.vault import Vault

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
WORKER_NICENESS = 10  # job workers started by `serve` yield the CPU to requests


def _bind(host: str, port: int, *, shared: bool = False) -> socket.socket:
    """The port, bound (uvicorn listens on it). ``shared``: one of several processes'
    sockets on the same port (SO_REUSEPORT), among which the kernel spreads new
    connections evenly; a single socket accepted from by several processes would
    leave most connections to whichever wakes first."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
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
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=1, max=64,
        help="Server processes behind the port (default: server.workers). Caches stay "
             "coherent across them; one that dies is replaced.",
    ),
) -> None:
    """Run the server in the foreground (Ctrl-C or SIGTERM stops it cleanly).

    Examples:

        pixelvault serve

        pixelvault serve --workers 4     # one process per CPU

        PIXELVAULT_JOBS_WORKERS=2 pixelvault serve   # and two job workers

        PIXELVAULT_SERVER_PORT=8080 pixelvault serve
    """
    from pixelvault.config import load_settings
    from pixelvault.services.access import principals
    from pixelvault.services.operations import process, setup
    from pixelvault.services.vault import open_vault

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    settings = load_settings()
    count = workers or settings.server_workers
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
        refuse_if_unhealthy(vault)
        with process.pid_file(settings):
            # the parent's socket holds the port (and says at once if it is taken); with
            # several processes it never listens, each child listens on its own
            job_workers = settings.job_workers
            sock = _bind(settings.host, settings.port, shared=count + job_workers > 1)
            logging.getLogger("pixelvault").info(
                "serving repository %s (%s) on %s with %d process(es)%s", vault.uuid,
                vault.layout.root, settings.base_url, count,
                f" and {job_workers} job worker(s)" if job_workers else "")
            errors.print(f"open {settings.base_url}/ in a browser for the web application",
                         markup=False)
            from pixelvault.server.routes.webapp import missing_packages

            if missing_packages():
                errors.print(missing_packages(), markup=False)
            if count == 1 and not job_workers:
                _serve_here(vault, sock, None)
                return
            # each process opens its own connections: none may be shared across a fork
            vault.close()
            from pixelvault.server import supervisor

            def serve_one(index: int) -> None:
                sock.close()
                own = open_vault(settings)
                try:
                    if index < count:
                        _serve_here(own, _bind(settings.host, settings.port, shared=True),
                                    index)
                    else:  # a job worker, behind the requests for the CPU
                        from pixelvault.services.jobs.worker import run_until_stopped

                        os.nice(WORKER_NICENESS)
                        run_until_stopped(own, 1, number=index)
                finally:
                    own.close()

            raise SystemExit(supervisor.supervise(count + job_workers, serve_one))
    finally:
        vault.close()


def refuse_if_unhealthy(vault: Vault) -> None:
    """Print the repository's warnings; refuse to start on a blocking problem (a data
    dir not this catalog's, not writable, full...)."""
    from pixelvault.services.operations import diagnostics

    checks = diagnostics.repository_checks(vault)
    for check in checks:
        if check.status is not diagnostics.Status.OK:
            errors.print(check.line(), markup=False, highlight=False, soft_wrap=True)
    blocking = diagnostics.blocking(checks)
    if blocking:
        first = blocking[0]
        raise RepositoryError(f"refusing to start: {first.name}: {first.detail}; {first.fix}")


def _protocol(name: str) -> type[asyncio.Protocol] | str:
    """uvicorn's protocol for ``server.http_parser``: httptools with h2c offers declined."""
    if name == "httptools":
        from pixelvault.server.http_protocol import H2cDecliningHttpToolsProtocol

        return H2cDecliningHttpToolsProtocol
    return name


def _serve_here(vault: Vault, sock: socket.socket, index: int | None) -> None:
    """Serve ``sock`` from this process until SIGTERM or SIGINT (uvicorn's graceful end)."""
    import uvicorn

    from pixelvault.repository import LockMode
    from pixelvault.server.app import create_app

    purpose = "pixelvault serve" if index is None else f"pixelvault serve (process {index})"
    with vault.lock(LockMode.SHARED, purpose) as lock:
        app = create_app(vault, lock, process=index)
        server = uvicorn.Server(uvicorn.Config(
            app, log_level="info", access_log=False, lifespan="on",
            timeout_graceful_shutdown=10, http=_protocol(vault.settings.http_parser),
            proxy_headers=True, forwarded_allow_ips=vault.settings.trusted_proxies,
        ))
        if index is None:
            signal.signal(signal.SIGTERM, _exit_cleanly)
        server.run(sockets=[sock])
