"""Use cases: they join the catalog (SQL) and the repository (bytes) in the right order."""
