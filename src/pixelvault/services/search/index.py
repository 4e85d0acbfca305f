"""The search index in FullText/: fed from the catalog's event log, searched with the
acting user's permissions inside the query, rebuilt online.

The indexer reads events in order, a batch at a time: the objects they name are
read afresh from the catalog and their documents replaced (or removed, for
objects gone), the index is committed, then its position written. A crash
between the two only replays a batch. A reindex builds a new index beside the
live one from the catalog, replays the events that came meanwhile, and makes it
live in one rename; searches go on throughout. A missing or damaged index is
rebuilt the same way, and searches say "rebuilding" until it is done.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from pixelvault.catalog import Actor, Right
from pixelvault.catalog.models import Annotation, MapEntry, SearchEvent
from pixelvault.catalog.permissions import allowed
from pixelvault.errors import InvalidInputError, PendingError, PixelvaultError
from pixelvault.repository.fulltext import FullTextStore
from pixelvault.services.search import documents, query, schema
from pixelvault.services.vault import Vault

log = logging.getLogger(__name__)
BATCH = 1000
WRITER_HEAP = 64 << 20
# An event id missing between two seen ones may belong to a transaction that has not
# committed yet (PostgreSQL hands out ids before commits, in any order): the indexer waits
# this long for it before taking it for a rolled-back one.
GAP_WAIT = 10.0
Progress = Callable[[int, int], None]  # (documents done, documents in all)


class IndexUnavailableError(PendingError):
    """The index is being (re)built; search again shortly."""


def _doc(found: documents.Doc) -> Any:
    import tantivy

    doc = tantivy.Document()
    doc.add_text("key", found.key)
    doc.add_text("kind", found.kind)
    doc.add_integer("id", found.id)
    doc.add_integer("owner_id", found.owner_id)
    doc.add_integer("group_id", found.group_id)
    everything = []
    for name, values in found.fields.items():
        for value in values:
            doc.add_text(name, value)
            if name not in schema.RAW_FIELDS:
                everything.append(value)
    for values in found.kv.values():
        everything.extend(values)
    if found.kv:
        doc.add_json(schema.KV_FIELD, {k: " ".join(v) for k, v in found.kv.items()})
    if everything:
        doc.add_text(schema.DEFAULT_FIELD, "\n".join(everything))
    for name, moment in (("created", found.created), ("modified", found.modified)):
        if moment is not None:
            doc.add_date(name, moment)
    return doc


@dataclass(frozen=True)
class Status:
    state: str  # "ok", "rebuilding" or "unavailable"
    position: int
    newest: int
    documents: int
    index: str | None

    @property
    def lag(self) -> int:
        return max(0, self.newest - self.position)


class SearchIndex:
    """One repository's index; thread-safe, one writer at a time."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.store = FullTextStore(vault.guard)
        self.schema = schema.build()
        self._lock = threading.RLock()
        self._index: Any = None
        self._path: Path | None = None
        self._rebuilding = False
        self._kv_fields: set[str] = set()
        self._kv_checked = 0.0
        self._gaps: dict[int, float] = {}  # missing event id -> when first missed

    # Opening -------------------------------------------------------------------------
    def _open(self) -> Any:
        """The live index, reopened when CURRENT changed; None if there is none."""
        import tantivy

        current = self.store.current()
        if current is None:
            self._index, self._path = None, None
            return None
        if current != self._path or self._index is None:
            try:
                self._index = tantivy.Index(self.schema, path=str(current), reuse=True)
            except (OSError, ValueError) as exc:
                log.warning("search index %s cannot be opened (%s); it will be rebuilt",
                            current, exc)
                self._index, self._path = None, None
                return None
            self._path = current
        return self._index

    def newest_event(self) -> int:
        """The last event written (0 when the log is empty: then nothing is waiting)."""
        with self.vault.catalog.session() as session:
            return int(session.scalar(select(func.max(SearchEvent.id))) or 0)

    def status(self) -> Status:
        with self._lock:
            index = self._open()
            newest = self.newest_event()
            if index is None:
                return Status("rebuilding" if self._rebuilding else "unavailable", 0, newest,
                              0, None)
            index.reload()
            assert self._path is not None
            position = self.store.position(self._path)
            return Status("rebuilding" if self._rebuilding else "ok", position,
                          max(newest, position), int(index.searcher().num_docs),
                          self._path.name)

    # Writing -------------------------------------------------------------------------
    def _apply(self, index: Any, wanted: dict[str, set[int]], expand: bool = True) -> int:
        """Replace the documents of the wanted objects (and, with ``expand``, of what an
        annotation annotates and what a renamed user or group holds); the number
        written."""
        writer = index.writer(WRITER_HEAP, 1)
        written = 0
        with self.vault.catalog.session() as session:
            for kind in list(wanted) if expand else []:
                if kind in ("annotation", "user", "group"):
                    for other, ids in documents.related(session, kind, sorted(wanted[kind])
                                                        ).items():
                        wanted.setdefault(other, set()).update(ids)
            for kind, ids in wanted.items():
                if kind not in schema.KINDS:
                    continue
                ordered = sorted(ids)
                for start in range(0, len(ordered), BATCH):
                    chunk = ordered[start:start + BATCH]
                    for object_id in chunk:
                        writer.delete_documents_by_term("key", f"{kind}:{object_id}")
                    for found in documents.build(self.vault, session, kind, chunk):
                        writer.add_document(_doc(found))
                        written += 1
        writer.commit()
        writer.wait_merging_threads()
        return written

    def catch_up(self, limit: int = 100 * BATCH) -> int:
        """Apply waiting events to the live index; how many were applied. A missing or
        unreadable index is rebuilt first."""
        with self._lock:
            index = self._open()
            if index is None:
                self.rebuild()
                return 0
            assert self._path is not None
            return self._catch_up(index, self._path, limit)

    def _catch_up(self, index: Any, path: Path, limit: int) -> int:
        position = self.store.position(path)
        done = 0
        while done < limit:
            with self.vault.catalog.session() as session:
                events = session.execute(
                    select(SearchEvent.id, SearchEvent.kind, SearchEvent.object_id)
                    .where(SearchEvent.id > position).order_by(SearchEvent.id)
                    .limit(BATCH)).all()
            events = self._contiguous(position, events)
            if not events:
                break
            wanted: dict[str, set[int]] = defaultdict(set)
            for _, kind, object_id in events:
                if object_id is not None:
                    wanted[kind].add(object_id)
            self._apply(index, wanted)
            position = events[-1][0]
            self.store.set_position(path, position)
            done += len(events)
        if done:
            index.reload()
            self._prune(position)
        return done

    def _contiguous(self, position: int, events: Sequence[Any]) -> list[Any]:
        """The events up to the first gap that may still fill (see GAP_WAIT)."""
        now = time.monotonic()
        expected = position + 1
        for number, event in enumerate(events):
            if event[0] > expected:
                first = min(self._gaps.setdefault(i, now) for i in range(
                    expected, min(event[0], expected + 1000)))
                if now - first < GAP_WAIT:
                    return list(events[:number])
            expected = event[0] + 1
        self._gaps = {i: t for i, t in self._gaps.items() if i > position}
        return list(events)

    def _prune(self, position: int) -> None:
        """Events the live index has seen are no longer needed (a reindex in another
        process records where it started, and keeps those)."""
        keep = self.store.reindex_floor()
        with self.vault.catalog.session() as session:
            session.execute(delete(SearchEvent).where(
                SearchEvent.id <= min(position, keep if keep is not None else position)))

    def _fill(self, index: Any, kinds: tuple[str, ...], progress: Progress | None) -> int:
        """Every object of ``kinds`` from the catalog into ``index``; documents written."""
        with self.vault.catalog.session() as session:
            total = sum(int(session.scalar(select(func.count()).select_from(
                documents.model_of(k))) or 0) for k in kinds)
        done = 0
        for kind in kinds:
            after = 0
            while True:
                with self.vault.catalog.session() as session:
                    ids = documents.everything(session, kind, after, BATCH * 5)
                if not ids:
                    break
                after = ids[-1]
                done += self._apply(index, {kind: set(ids)}, expand=False)
                if progress is not None:
                    progress(min(done, total), total)
        return done

    def refresh(self, kinds: tuple[str, ...], progress: Progress | None = None) -> int:
        """Write every document of ``kinds`` again in the live index (after a change of how
        they are built, say); documents written."""
        with self._lock:
            index = self._open()
        if index is None:
            return self.rebuild(progress)
        done = self._fill(index, kinds, progress)
        index.reload()
        return done

    def rebuild(self, progress: Progress | None = None) -> int:
        """A whole new index from the catalog, made live when complete; documents written.
        Searches use the old index meanwhile (if there is one)."""
        import tantivy

        self._rebuilding = True
        try:
            start = self.newest_event()
            path = self.store.new_index_dir()
            self.store.mark_reindex(start)
            try:
                index = tantivy.Index(self.schema, path=str(path), reuse=False)
                done = self._fill(index, schema.KINDS, progress)
                self.store.set_position(path, start)
                self._catch_up(index, path, 1 << 30)  # what changed meanwhile
                with self._lock:
                    self.store.make_current(path)
                    self._index, self._path = None, None
            except BaseException:
                self.store.discard(path)
                raise
            finally:
                self.store.clear_reindex()
            return done
        finally:
            self._rebuilding = False

    # Searching -----------------------------------------------------------------------
    def kv_fields(self, fresh: bool = False) -> set[str]:
        """Keys of key-value annotations, as field names (asked again every minute, or
        at once when ``fresh``, at most once a second: unknown fields cost no more)."""
        since = time.monotonic() - self._kv_checked
        if since > 60 or (fresh and since > 1):
            with self.vault.catalog.session() as session:
                keys = session.scalars(select(MapEntry.key).distinct().limit(100_000)).all()
            self._kv_fields = {schema.kv_key(k) for k in keys if schema.kv_key(k)}
            self._kv_checked = time.monotonic()
        return self._kv_fields

    def completions(self, actor: Actor, prefix: str, limit: int = 20) -> dict[str, list[str]]:
        """The fields a query may name that start with ``prefix``: the index's own, and
        the keys of key-value annotations ``actor`` may read (searched as ``key:value``).
        A search box offers them as the user types."""
        prefix = prefix.lower()
        fields = sorted(f for f in (*schema.TEXT_FIELDS, *schema.RAW_FIELDS,
                                    *schema.DATE_FIELDS, "type") if f.startswith(prefix))
        # LIKE's "_" matches any one character, as kv_key's "_" stands for one
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%") + "%"
        with self.vault.catalog.session() as session:
            keys = session.scalars(
                select(MapEntry.key).distinct()
                .join(Annotation, Annotation.id == MapEntry.annotation_id)
                .where(allowed(actor, Right.READ, Annotation),
                       func.lower(MapEntry.key).like(pattern, escape="\\"))
                .order_by(MapEntry.key).limit(limit * 4)).all()
        names = dict.fromkeys(k for k in map(schema.kv_key, keys)
                              if k and k.startswith(prefix) and k not in fields)
        return {"fields": fields, "keys": list(names)[:limit]}

    def search(self, actor: Actor, text: str, *, kinds: list[str] | None = None,
               owner_id: int | None = None, group_id: int | None = None, limit: int = 50,
               offset: int = 0, sort: str = "relevance") -> dict[str, Any]:
        """Hits the actor may read (the permission filter is part of the query: counts
        and ranks know nothing of the rest)."""
        import tantivy

        if not 1 <= limit <= 500 or not 0 <= offset <= 100_000:
            raise InvalidInputError("limit is 1..500 and offset 0..100000")
        if sort not in ("relevance", "newest", "oldest"):
            raise InvalidInputError(f"sort {sort!r}: use relevance, newest or oldest")
        for kind in kinds or []:
            if kind not in schema.KINDS:
                raise InvalidInputError(f"type {kind!r}: use {', '.join(schema.KINDS)}")
        try:
            parsed = query.parse(text, self.kv_fields())
        except query.UnknownFieldError:  # a key added within the minute: ask again
            parsed = query.parse(text, self.kv_fields(fresh=True))
        with self._lock:
            index = self._open()
            if index is None:
                self._rebuilding = True
                raise IndexUnavailableError("the search index is rebuilding from the catalog; "
                                       "search again in a few seconds", retry_after=5)
        user_query = query.compile_query(parsed, self.schema)
        clauses = [(tantivy.Occur.Must, user_query)]
        if not actor.is_admin:
            readable = sorted(actor.groups_with.get(Right.READ, frozenset()))
            allowed = [(tantivy.Occur.Should,
                        tantivy.Query.term_query(self.schema, "owner_id", actor.user_id))]
            if readable:
                allowed.append((tantivy.Occur.Should, tantivy.Query.term_set_query(
                    self.schema, "group_id", readable)))
            clauses.append((tantivy.Occur.Must, tantivy.Query.boolean_query(allowed)))
        if kinds:
            clauses.append((tantivy.Occur.Must, tantivy.Query.boolean_query([
                (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "kind", k))
                for k in kinds])))
        for name, value in (("owner_id", owner_id), ("group_id", group_id)):
            if value is not None:
                clauses.append((tantivy.Occur.Must,
                                tantivy.Query.term_query(self.schema, name, value)))
        full = tantivy.Query.boolean_query(clauses)
        searcher = index.searcher()
        options: dict[str, Any] = {"limit": limit, "offset": offset, "count": True}
        if sort != "relevance":
            options["order_by_field"] = "modified"
            options["order"] = tantivy.Order.Desc if sort == "newest" else tantivy.Order.Asc
        try:
            result = searcher.search(full, **options)
        except ValueError as exc:
            raise InvalidInputError(f"the query cannot be searched: {exc}") from None
        snippets = tantivy.SnippetGenerator.create(
            searcher, query.compile_query(parsed, self.schema, "content"), self.schema,
            "content")
        hits = []
        for score, address in result.hits:
            doc = searcher.doc(address)
            hit = {"type": doc.get_first("kind"), "id": doc.get_first("id"),
                   "name": doc.get_first("name") or "",
                   "score": round(float(score), 4) if sort == "relevance" else None,
                   "owner_id": doc.get_first("owner_id"),
                   "group_id": doc.get_first("group_id")}
            modified = doc.get_first("modified")
            if isinstance(modified, datetime):
                hit["modified"] = modified.isoformat()
            if doc.get_first("content"):
                html = snippets.snippet_from_doc(doc).to_html()
                if html:
                    hit["snippet"] = html
            hits.append(hit)
        return {"query": text, "total": int(result.count or 0), "offset": offset,
                "limit": limit, "hits": hits}


_INDEXES_LOCK = threading.Lock()


def index_of(vault: Vault) -> SearchIndex:
    """The repository's one index object (kept on the vault, for as long as it is open)."""
    with _INDEXES_LOCK:
        found: SearchIndex | None = vault.__dict__.get("_search_index")
        if found is None:
            found = SearchIndex(vault)
            vault.__dict__["_search_index"] = found
        return found


class Indexer:
    """The server's background indexer: catches up every ``poll`` seconds.

    Of several server processes, on one host or many, exactly one indexes: the
    leader (see ``operations.leadership``), replaced by another within ``poll``
    seconds of its death. The others answer searches from the same index and see
    its commits as they land.
    """

    def __init__(self, vault: Vault, poll: float = 0.5) -> None:
        from pixelvault.services.operations.leadership import leadership

        self.index = index_of(vault)
        self.poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lead = leadership(vault, "search indexer",
                                self.index.store.root / "indexer.lock")
        self._leading = False

    @property
    def leading(self) -> bool:
        return self._leading

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="search-indexer", daemon=True)
        self._thread.start()

    def _leads(self) -> bool:
        now = self._lead.hold()
        if now and not self._leading:
            log.info("this process indexes for search (pid %d)", os.getpid())
        self._leading = now
        return now

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._leads():
                self._stop.wait(self.poll)
                continue
            try:
                self.index.catch_up()
            except PixelvaultError as exc:
                log.warning("search indexer: %s", exc)
            except Exception as exc:  # the indexer must outlive a bad batch; logged
                log.exception("search indexer failed a batch: %s", exc)
            self._stop.wait(self.poll)

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._lead.release()  # another process takes over
        self._leading = False
