"""The local repository, for commands that work on it directly (no server needed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pixelvault.services.vault import Vault


@contextmanager
def vault_session(purpose: str = "pixelvault files") -> Iterator[Vault]:
    """The local repository, under a shared lock, for commands that work on it directly."""
    from pixelvault.config import load_settings
    from pixelvault.repository import LockMode
    from pixelvault.services.vault import open_vault

    vault = open_vault(load_settings())
    try:
        with vault.lock(LockMode.SHARED, purpose):
            yield vault
    finally:
        vault.close()
