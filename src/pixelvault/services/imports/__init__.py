"""Imports: plan (find and group files), then import each fileset on its own."""

from pixelvault.services.imports.fileset import (
    LOCAL_TRANSFERS,
    ImportedFileset,
    ImportOptions,
    describe,
    import_fileset,
)
from pixelvault.services.imports.plan import Plan, PlannedFileset, Skipped, plan
from pixelvault.services.imports.run import Failure, Outcome, resolve_dataset, run

__all__ = ["LOCAL_TRANSFERS", "Failure", "ImportOptions", "ImportedFileset", "Outcome", "Plan",
           "PlannedFileset", "Skipped", "describe", "import_fileset", "plan", "resolve_dataset",
           "run"]
