"""The search index's fields, as OMERO's Lucene index has them, in tantivy.

Text fields use tantivy's default analyzer: lower-cased runs of letters and
digits, so ``GFP-H2B_1.dv`` is found by ``gfp``, ``h2b``, ``1`` and ``dv``. Every
text also goes into ``text``, the field bare terms search. Each key of a
key-value annotation is a field of its own (under the JSON field ``kv``, its name
lower-cased, non-alphanumerics as ``_``). ``owner_id`` and ``group_id`` are what
the permission filter of every query uses.
"""

from __future__ import annotations

import re
from typing import Any

KINDS = ("project", "dataset", "image", "fileset", "annotation", "screen", "plate", "well")
TEXT_FIELDS = ("name", "description", "owner", "group", "tag", "comment", "file", "path",
               "channel", "format", "content", "roi")
RAW_FIELDS = ("mimetype", "hash")
DATE_FIELDS = ("created", "modified")
DEFAULT_FIELD = "text"
KV_FIELD = "kv"
SCHEMA_VERSION = 2  # 2: ROI names and texts (an index of another schema is rebuilt)


def kv_key(key: str) -> str:
    """A key-value annotation's key as a field name: ``Cell line`` is ``cell_line``."""
    return re.sub(r"[^0-9a-z]+", "_", key.strip().lower()).strip("_")[:100]


def build() -> Any:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("key", stored=True, tokenizer_name="raw")
    builder.add_text_field("kind", stored=True, tokenizer_name="raw")
    builder.add_integer_field("id", stored=True, indexed=True)
    builder.add_integer_field("owner_id", stored=True, indexed=True, fast=True)
    builder.add_integer_field("group_id", stored=True, indexed=True, fast=True)
    for name in TEXT_FIELDS:
        builder.add_text_field(name, stored=name in ("name", "content"),
                               tokenizer_name="default", index_option="position")
    for name in RAW_FIELDS:
        builder.add_text_field(name, stored=False, tokenizer_name="raw")
    builder.add_text_field(DEFAULT_FIELD, stored=False, tokenizer_name="default",
                           index_option="position")
    builder.add_json_field(KV_FIELD, stored=False, tokenizer_name="default",
                           index_option="position")
    for name in DATE_FIELDS:
        builder.add_date_field(name, stored=True, indexed=True, fast=True)
    return builder.build()
