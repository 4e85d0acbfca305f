"""Password hashing with argon2id, under one of two memory-hard profiles.

``rfc9106-low-memory`` (the default: 64 MiB, 3 passes, 4 lanes) is RFC 9106's
second recommendation; ``owasp`` (19 MiB, 2 passes, 1 lane) is OWASP's
minimum, for small servers where many logins at once would exhaust memory.
A hash keeps its own parameters, so changing ``auth.password_profile`` never
locks anyone out: each password is re-hashed with the new profile at its
owner's next successful login.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher, Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from pixelvault.errors import InvalidInputError

MIN_PASSWORD = 8
PROFILES = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
    "owasp": profiles.RFC_9106_LOW_MEMORY.__class__(
        type=Type.ID, version=19, salt_len=16, hash_len=32, time_cost=2, memory_cost=19456,
        parallelism=1),
}
DEFAULT_PROFILE = "rfc9106-low-memory"
_profile = [DEFAULT_PROFILE]


def use_profile(name: str) -> None:
    """Hash new passwords with this profile from now on (set from the settings at start)."""
    if name not in PROFILES:
        raise InvalidInputError(f"unknown password profile {name!r}; use one of "
                                f"{', '.join(PROFILES)}")
    if name != _profile[0]:
        _profile[0] = name
        _hasher.cache_clear()
        _dummy_hash.cache_clear()


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher.from_parameters(PROFILES[_profile[0]])


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInputError(f"passwords need at least {MIN_PASSWORD} characters")
    return _hasher().hash(password)


def check_password(stored: str | None, password: str) -> bool:
    """Constant work whether or not the user exists, so timing tells nothing."""
    try:
        return _hasher().verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a verified hash was made with other parameters than the current profile's."""
    try:
        return _hasher().check_needs_rehash(stored)
    except InvalidHashError:
        return True
