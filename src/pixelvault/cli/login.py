"""`pixelvault login` / `logout`, and the saved session other commands use.

The session token is kept in ``<home>/session.json``, created readable by its
owner only, never on a command line or in a URL.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pixelvault.cli.output import console
from pixelvault.errors import AuthenticationError

if TYPE_CHECKING:
    from pixelvault.client import Connection


def _session_file() -> Path:
    from pixelvault.config import home_dir

    return home_dir(os.environ) / "session.json"


def _save(data: dict[str, Any]) -> None:
    path = _session_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".session.json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    tmp.replace(path)


def connection() -> Connection:
    """The saved session's connection; tells the user to log in when there is none."""
    from pixelvault.client import Connection

    try:
        saved = json.loads(_session_file().read_text(encoding="utf-8"))
        return Connection(saved["url"], saved["token"])
    except (OSError, ValueError, KeyError):
        raise AuthenticationError("not logged in; run `pixelvault login`") from None


def _server_url(server: str | None, port: int | None) -> str:
    from pixelvault.config import load_settings

    settings = load_settings()
    if server and server.startswith(("http://", "https://")):
        return server.rstrip("/")
    host = server or settings.base_url.split("//", 1)[1].rsplit(":", 1)[0]
    return f"http://{host}:{port or settings.port}"


def login(
    server: str | None = typer.Option(None, "-s", "--server", help="Host or URL."),
    port: int | None = typer.Option(None, "-p", "--port", help="Port (default server.port)."),
    user: str | None = typer.Option(None, "-u", "--user", help="User name (prompted)."),
    password: str | None = typer.Option(
        None, "-w", "--password", help="Password (prompted; avoid on shared machines)."),
) -> None:
    """Log in to a server and keep the session for the next commands.

    Examples:

        pixelvault login -u root

        pixelvault login -s omero.example.org -p 4080 -u alice
    """
    from pixelvault.client import Connection

    url = _server_url(server, port)
    user = user or typer.prompt("Username")
    password = password or typer.prompt("Password", hide_input=True)
    conn = Connection(url)
    answer = conn.login(user, password)
    _save({"url": url, "token": answer["token"], "username": answer["username"]})
    console.print(f"logged in to {url} as {answer['username']} "
                  f"(group {answer['group_id']}); session kept in {_session_file()}",
                  markup=False)


def logout() -> None:
    """End the saved session on the server and forget it here."""
    try:
        conn = connection()
    except AuthenticationError:
        console.print("not logged in", markup=False)
        return
    try:
        conn.logout()
    except AuthenticationError:
        pass  # already ended on the server (timeout, password change)
    finally:
        _session_file().unlink(missing_ok=True)
    console.print("logged out", markup=False)


def server_or_none() -> Connection | None:
    """The saved session's server if it answers; None means: work on this machine's
    repository (not logged in, or the server is down, which is said)."""
    from pixelvault.cli.output import errors
    from pixelvault.errors import ServerNotRunningError

    try:
        conn = connection()
    except AuthenticationError:
        return None  # not logged in
    try:
        conn.whoami()
    except ServerNotRunningError:
        errors.print(f"no server answers at {conn.base_url}; working on this machine's "
                     "repository", markup=False)
        conn.close()
        return None
    return conn
