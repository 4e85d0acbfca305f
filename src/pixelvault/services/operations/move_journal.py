"""The journal of a same-filesystem move, and finishing a move a kill interrupted.

Kept apart from the move itself so that opening a vault (which finishes such a
move first) does not depend on the module that moves repositories, which opens
vaults: imports point one way.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from pixelvault import config
from pixelvault.config import Settings
from pixelvault.repository import Layout
from pixelvault.repository import identity as disk_identity

log = logging.getLogger(__name__)


def journal_path(settings: Settings) -> Path:
    return settings.state_dir / "move-journal.json"


def recover_interrupted_move(settings: Settings) -> Settings:
    """Finish (or forget) a same-filesystem move that a kill interrupted."""
    journal = journal_path(settings)
    try:
        entry = json.loads(journal.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return settings
    uuid, source, target = entry["uuid"], Path(entry["from"]), Path(entry["to"])
    if disk_identity.read_marker(Layout(source), uuid) == uuid:
        journal.unlink(missing_ok=True)  # the rename never happened
        return settings
    if disk_identity.read_marker(Layout(target), uuid) == uuid:
        if settings.values["data.dir"].source != "env":
            config.set_value("data.dir", str(target), settings.env)
        journal.unlink(missing_ok=True)
        log.warning("finished an interrupted move: data.dir is now %s", target)
        return config.load_settings(settings.env)
    return settings
