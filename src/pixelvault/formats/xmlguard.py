"""The one rule for every XML document a reader hands to a parser: no DOCTYPE.

Microscopy XML (OME-XML, Leica's LIF headers, CZI metadata) never needs a
document type; entity declarations are how XML external-entity attacks (OMERO
CVE-2026-22186) and entity-expansion bombs arrive. So a document carrying one
is refused before any parser sees it.
"""

from __future__ import annotations

import re

from pixelvault.errors import CorruptFileError

_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_DOCTYPE_TEXT = re.compile(r"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


def refuse_entities(xml: str | bytes, what: str, kind: str = "XML") -> None:
    """CorruptFileError naming ``what`` if ``xml`` declares a document type or entities."""
    found = _DOCTYPE_TEXT.search(xml) if isinstance(xml, str) else _DOCTYPE.search(xml)
    if found:
        raise CorruptFileError(f"{what}: {kind} with a DOCTYPE or entity declaration is "
                               "refused (external entities are not read)")
