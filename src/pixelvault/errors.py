"""One error hierarchy for the whole of pixelvault.

Every expected failure is a :class:`PixelvaultError` whose message says what is
wrong *and what to do about it*. The CLI prints that one line and exits with
``exit_code``; the server answers with ``http_status`` and ``{"message": ...}``.
Exit codes follow BSD ``sysexits.h`` so that scripts and service managers can
tell a configuration mistake from a temporary outage.
"""

from __future__ import annotations

# sysexits.h values: a sysadmin's scripts may already know them.
EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_CANTCREAT = 73
EX_IOERR = 74
EX_TEMPFAIL = 75
EX_NOPERM = 77
EX_CONFIG = 78


class PixelvaultError(Exception):
    """Base of every error pixelvault expects and explains."""

    exit_code: int = EX_SOFTWARE
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(PixelvaultError):
    """A configuration key or value is wrong."""

    exit_code = EX_CONFIG
    http_status = 500


class InvalidInputError(PixelvaultError):
    """A request or argument is malformed."""

    exit_code = EX_USAGE
    http_status = 400


class NotFoundError(PixelvaultError):
    """The thing asked for does not exist (or may not be seen)."""

    exit_code = EX_NOINPUT
    http_status = 404


class RepositoryError(PixelvaultError):
    """The data dir cannot be used as a repository right now."""

    exit_code = EX_UNAVAILABLE
    http_status = 503


class RepositoryIdentityError(RepositoryError):
    """The data dir is not the repository the catalog belongs to.

    This is the guard against OMERO's worst sharp edge: writing into the bare
    mount point of a share that failed to mount.
    """


class RepositoryPermissionError(RepositoryError):
    """The data dir is not readable/writable or not owned by us."""

    exit_code = EX_NOPERM


class LockHeldError(RepositoryError):
    """Another process holds the repository lock in a conflicting mode."""

    exit_code = EX_TEMPFAIL
    http_status = 409


class OutOfSpaceError(RepositoryError):
    """Free space is below the critical threshold, or the disk filled up."""

    exit_code = EX_CANTCREAT
    http_status = 507


class IntegrityError(PixelvaultError):
    """Bytes on disk do not match what was recorded or sent."""

    exit_code = EX_DATAERR
    http_status = 422


class CatalogError(PixelvaultError):
    """The catalog database cannot be used (unreachable, wrong schema)."""

    exit_code = EX_UNAVAILABLE
    http_status = 503


class ServerNotRunningError(PixelvaultError):
    """An admin command needs a running server and none answers."""

    exit_code = EX_UNAVAILABLE
    http_status = 503


class AuthenticationError(PixelvaultError):
    """No valid session, or a wrong user name or password (never which of the two)."""

    exit_code = EX_NOPERM
    http_status = 401


class ForbiddenError(PixelvaultError):
    """Authenticated, but this action on this (visible) object is not allowed."""

    exit_code = EX_NOPERM
    http_status = 403


class TooManyAttemptsError(PixelvaultError):
    """Login attempts are being rate-limited."""

    exit_code = EX_TEMPFAIL
    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnsupportedFormatError(PixelvaultError):
    """No reader knows the file's format; the message names what it looked like."""

    exit_code = EX_DATAERR
    http_status = 415


class CorruptFileError(PixelvaultError):
    """A reader knows the format, but the file is truncated, damaged or contradicts itself."""

    exit_code = EX_DATAERR
    http_status = 422


class LimitError(PixelvaultError):
    """An input would cost more work or memory than the configured limits allow (a
    decompression bomb, an absurd declared size); the message names the setting."""

    exit_code = EX_DATAERR
    http_status = 413


class IncompleteError(PixelvaultError):
    """Part of a batch was done and part not; what failed was reported item by item."""

    exit_code = EX_DATAERR
    http_status = 422


class PendingError(PixelvaultError):
    """What was asked for is being made (a pyramid level); ask again later."""

    exit_code = EX_TEMPFAIL
    http_status = 503

    def __init__(self, message: str, retry_after: int, progress: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.progress = progress
