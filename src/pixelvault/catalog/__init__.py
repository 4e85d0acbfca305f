"""The catalog: SQL models, migrations and permission-filtered queries.

Knows nothing of bytes on disk: paths are stored relative to the repository
root and handed to ``repository/`` by the services.
"""

from pixelvault.catalog.engine import Catalog
from pixelvault.catalog.permissions import Actor, Right

__all__ = ["Actor", "Catalog", "Right"]
