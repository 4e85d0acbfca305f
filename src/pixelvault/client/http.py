"""The HTTP layer every part of the client stands on: one server, one session token
(sent as `Authorization: Bearer`, never in URLs), answers as JSON, bytes or streams,
and errors as pixelvault's own exceptions with the server's message.

The parts of the client (objects, transfers, pixels, imports) take an :class:`Http`,
so none of them needs the :class:`~pixelvault.client.connection.Connection` that
gathers them: imports point one way only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from pixelvault import errors

_BY_STATUS: dict[int, type[errors.PixelvaultError]] = {
    400: errors.InvalidInputError,
    401: errors.AuthenticationError,
    403: errors.ForbiddenError,
    404: errors.NotFoundError,
    409: errors.LockHeldError,
    413: errors.LimitError,
    422: errors.IntegrityError,
    503: errors.RepositoryError,
    507: errors.OutOfSpaceError,
}


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        message = str(response.json().get("message") or response.text)
    except ValueError:
        message = response.text[:200] or response.reason_phrase
    if response.status_code == 429:
        raise errors.TooManyAttemptsError(message,
                                          int(response.headers.get("Retry-After", "60")))
    if response.status_code == 503 and "Retry-After" in response.headers:
        try:
            progress = response.json().get("progress")
        except ValueError:
            progress = None
        raise errors.PendingError(message, int(response.headers["Retry-After"]), progress)
    raise _BY_STATUS.get(response.status_code, errors.PixelvaultError)(message)


class Http:
    """Requests to one server with the session's token."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _unreachable(self, exc: httpx.HTTPError) -> errors.PixelvaultError:
        if isinstance(exc, httpx.ConnectError):
            return errors.ServerNotRunningError(
                f"no pixelvault server answers at {self.base_url}; start it with "
                "`pixelvault admin start` or check the address")
        return errors.ServerNotRunningError(f"talking to {self.base_url} failed: {exc}")

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """A JSON answer (None for an empty one); errors as pixelvault's exceptions."""
        response = self.raw(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def raw(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A response whose body is bytes, not JSON (pixels, exports)."""
        headers = self._headers(kwargs.pop("headers", None))
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        _raise_for(response)
        return response

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """A response whose body is read in chunks (downloads of any size)."""
        headers = self._headers(kwargs.pop("headers", None))
        try:
            with self._http.stream(method, path, headers=headers, **kwargs) as response:
                if not response.is_success:
                    response.read()
                    _raise_for(response)
                yield response
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None

    def close(self) -> None:
        self._http.close()
