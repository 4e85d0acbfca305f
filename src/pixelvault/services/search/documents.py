"""Search documents from the catalog: one per project, dataset, image, fileset and
annotation, built a batch at a time (the catalog is the source of truth; the index
can always be rebuilt from it).

An object's document holds its name and description, its owner's and group's
names, the tags, comments, key-value pairs and attached files annotating it (the
text of text, CSV, XML and PDF attachments up to ``search.max_content``), and
for images and filesets their files' names, client paths, types and hashes and
the channels' names.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pixelvault.catalog.models import (
    Annotation,
    AnnotationLink,
    Channel,
    Dataset,
    Experimenter,
    ExperimenterGroup,
    Fileset,
    FilesetEntry,
    FilesetState,
    Image,
    MapEntry,
    OriginalFile,
    Pixels,
    Plate,
    Project,
    Roi,
    Screen,
    Shape,
    Well,
    WellSample,
)
from pixelvault.catalog.models.annotations import ORIGINAL_METADATA_NS
from pixelvault.formats.plates import label
from pixelvault.services.search.schema import kv_key
from pixelvault.services.vault import Vault

log = logging.getLogger(__name__)
TEXT_TYPES = ("text/plain", "text/csv", "text/xml", "application/xml", "application/pdf",
              "text/tab-separated-values")
MAX_TEXT = 1 << 20  # characters of an attachment kept in the index


@dataclass
class Doc:
    kind: str
    id: int
    owner_id: int
    group_id: int
    created: datetime | None
    modified: datetime | None
    fields: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    kv: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    def add(self, name: str, value: str | None) -> None:
        if value:
            self.fields[name].append(value)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def attachment_text(vault: Vault, file_id: int, name: str, mimetype: str, size: int) -> str:
    """The words of an attached text, CSV, XML or PDF file; empty for other types, files
    over the limit and files that are not what they say (logged)."""
    if mimetype not in TEXT_TYPES or size > vault.settings.search_max_content:
        return ""
    try:
        data = b"".join(vault.files.read_range(file_id))
    except Exception as exc:  # a missing or unreadable file: index the name only
        log.warning("attachment %s (%s) not indexed: %s", file_id, name, exc)
        return ""
    if mimetype == "application/pdf":
        try:
            import io

            from pypdf import PdfReader

            reader = PdfReader(io.BytesIO(data))
            text = "\n".join((page.extract_text() or "") for page in reader.pages)
        except Exception as exc:  # pypdf raises many types for damaged files
            log.warning("attachment %s (%s) is not a readable PDF; indexed by name only: %s",
                        file_id, name, exc)
            return ""
        return text[:MAX_TEXT]
    try:
        return data.decode("utf-8")[:MAX_TEXT]
    except UnicodeDecodeError:
        log.warning("attachment %s (%s) is not UTF-8 text; indexed by name only", file_id,
                    name)
        return ""


def _people(session: Session, docs: Iterable[Doc]) -> None:
    docs = list(docs)
    owners = {d.owner_id for d in docs}
    groups = {d.group_id for d in docs}
    users = {u.id: u for u in session.scalars(select(Experimenter).where(
        Experimenter.id.in_(owners)))}
    names = {g.id: g.name for g in session.scalars(select(ExperimenterGroup).where(
        ExperimenterGroup.id.in_(groups)))}
    for doc in docs:
        user = users.get(doc.owner_id)
        if user is not None:
            doc.add("owner", " ".join(p for p in (user.username, user.first_name,
                                                  user.last_name) if p))
        doc.add("group", names.get(doc.group_id))


def _annotations(vault: Vault, session: Session, docs: dict[tuple[str, int], Doc]) -> None:
    """Tags, comments, key-value pairs and attachments linked to the documents' objects."""
    by_kind: dict[str, list[int]] = defaultdict(list)
    for kind, object_id in docs:
        if kind in ("project", "dataset", "image"):
            by_kind[kind].append(object_id)
    for kind, ids in by_kind.items():
        rows = session.execute(
            select(AnnotationLink.parent_id, Annotation)
            .join(Annotation, Annotation.id == AnnotationLink.annotation_id)
            .where(AnnotationLink.parent_kind == kind, AnnotationLink.parent_id.in_(ids))).all()
        entries = _entries(session, {a.id for _, a in rows})
        files = _files(session, {a.file_id for _, a in rows if a.file_id is not None})
        for parent_id, annotation in rows:
            _fill_annotation(vault, docs[(kind, parent_id)], annotation,
                             entries.get(annotation.id, []), files)


def _entries(session: Session, annotation_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """The key-value pairs of map annotations, in their order."""
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for annotation_id, key, value in session.execute(
            select(MapEntry.annotation_id, MapEntry.key, MapEntry.value)
            .where(MapEntry.annotation_id.in_(list(annotation_ids)))
            .order_by(MapEntry.annotation_id, MapEntry.position)):
        found[annotation_id].append((key, value))
    return found


def _files(session: Session, ids: set[int]) -> dict[int, OriginalFile]:
    if not ids:
        return {}
    return {f.id: f for f in session.scalars(select(OriginalFile).where(
        OriginalFile.id.in_(ids)))}


def _fill_annotation(vault: Vault, doc: Doc, annotation: Annotation,
                     entries: list[tuple[str, str]], files: dict[int, OriginalFile]) -> None:
    if annotation.kind == "tag":
        doc.add("tag", annotation.text_value)
    elif annotation.kind == "comment":
        doc.add("comment", annotation.text_value)
    elif annotation.kind == "map":
        for key, value in entries:
            doc.kv[kv_key(key)].append(value)
            doc.add("content", f"{key} {value}")
    elif annotation.kind == "file" and annotation.file_id in files:
        original = files[annotation.file_id]
        doc.add("file", original.name)
        doc.add("mimetype", original.mimetype)
        doc.add("hash", original.hash)
        doc.add("content", attachment_text(vault, original.id, original.name,
                                           original.mimetype, original.size))


def _containers(session: Session, model: Any, kind: str, ids: list[int]) -> list[Doc]:
    docs = []
    for row in session.scalars(select(model).where(model.id.in_(ids))):
        doc = Doc(kind, row.id, row.owner_id, row.group_id, _utc(row.created_at),
                  _utc(row.updated_at))
        doc.add("name", row.name)
        doc.add("description", row.description)
        docs.append(doc)
    return docs


def _images(session: Session, ids: list[int]) -> list[Doc]:
    docs = {}
    for row in session.scalars(select(Image).where(Image.id.in_(ids))):
        doc = Doc("image", row.id, row.owner_id, row.group_id, _utc(row.created_at),
                  _utc(row.updated_at))
        doc.add("name", row.name)
        doc.add("description", row.description)
        docs[row.id] = doc
    for image_id, name in session.execute(
            select(Pixels.image_id, Channel.name).join(Channel, Channel.pixels_id == Pixels.id)
            .where(Pixels.image_id.in_(list(docs)))):
        docs[image_id].add("channel", name)
    for image_id, fileset_format, original in session.execute(
            select(Image.id, Fileset.format, OriginalFile)
            .join(Fileset, Fileset.id == Image.fileset_id)
            .join(FilesetEntry, FilesetEntry.fileset_id == Fileset.id)
            .join(OriginalFile, OriginalFile.id == FilesetEntry.original_file_id)
            .where(Image.id.in_(list(docs)))):
        doc = docs[image_id]
        if fileset_format not in doc.fields.get("format", []):
            doc.add("format", fileset_format)
        doc.add("file", original.name)
        doc.add("mimetype", original.mimetype)
        doc.add("hash", original.hash)
    for image_id, client_path in session.execute(
            select(Image.id, FilesetEntry.client_path)
            .join(FilesetEntry, FilesetEntry.fileset_id == Image.fileset_id)
            .where(Image.id.in_(list(docs)))):
        docs[image_id].add("path", client_path)
    _rois(session, docs)
    return list(docs.values())


def _rois(session: Session, docs: dict[int, Doc]) -> None:
    """ROI names and shape texts, each once per image, up to MAX_TEXT characters (an image
    with 10^5 labelled shapes must not make a document of megabytes)."""
    seen: dict[int, set[str]] = defaultdict(set)
    sizes: dict[int, int] = defaultdict(int)
    texts = select(Roi.image_id, Roi.name).where(Roi.image_id.in_(list(docs)), Roi.name != "")
    shapes = select(Shape.image_id, Shape.text).where(Shape.image_id.in_(list(docs)),
                                                      Shape.text != "")
    for statement in (texts, shapes):
        for image_id, text in session.execute(statement.distinct()):
            if text in seen[image_id] or sizes[image_id] > MAX_TEXT:
                continue
            seen[image_id].add(text)
            sizes[image_id] += len(text)
            docs[image_id].add("roi", text)


def _filesets(session: Session, ids: list[int]) -> list[Doc]:
    docs = {}
    for row in session.scalars(select(Fileset).where(Fileset.id.in_(ids),
                                                     Fileset.state == FilesetState.READY)):
        doc = Doc("fileset", row.id, row.owner_id, row.group_id, _utc(row.created_at),
                  _utc(row.updated_at))
        doc.add("name", row.directory.rsplit("/", 1)[-1])
        doc.add("path", row.directory)
        doc.add("format", row.format)
        docs[row.id] = doc
    for fileset_id, client_path, original in session.execute(
            select(FilesetEntry.fileset_id, FilesetEntry.client_path, OriginalFile)
            .join(OriginalFile, OriginalFile.id == FilesetEntry.original_file_id)
            .where(FilesetEntry.fileset_id.in_(list(docs)))):
        doc = docs[fileset_id]
        doc.add("file", original.name)
        doc.add("path", client_path)
        doc.add("mimetype", original.mimetype)
        doc.add("hash", original.hash)
    return list(docs.values())


def _annotation_docs(vault: Vault, session: Session, ids: list[int]) -> list[Doc]:
    rows = session.scalars(select(Annotation).where(Annotation.id.in_(ids))).all()
    entries = _entries(session, ids)
    files = _files(session, {a.file_id for a in rows if a.file_id is not None})
    docs = []
    for row in rows:
        doc = Doc("annotation", row.id, row.owner_id, row.group_id, _utc(row.created_at),
                  _utc(row.updated_at))
        doc.add("name", row.text_value if row.kind in ("tag", "comment") else
                files[row.file_id].name if row.file_id in files else row.kind)
        _fill_annotation(vault, doc, row, entries.get(row.id, []), files)
        docs.append(doc)
    return docs


def build(vault: Vault, session: Session, kind: str, ids: list[int]) -> list[Doc]:
    """The documents of the objects of ``kind`` among ``ids`` that exist (a missing one
    was deleted: its document goes)."""
    if not ids:
        return []
    if kind == "project":
        docs = _containers(session, Project, kind, ids)
    elif kind == "dataset":
        docs = _containers(session, Dataset, kind, ids)
    elif kind == "image":
        docs = _images(session, ids)
    elif kind == "fileset":
        docs = _filesets(session, ids)
    elif kind == "annotation":
        docs = _annotation_docs(vault, session, ids)
    elif kind == "screen":
        docs = _containers(session, Screen, kind, ids)
    elif kind == "plate":
        docs = _containers(session, Plate, kind, ids)
        _plate_images(vault, session, docs, Plate)
    elif kind == "well":
        docs = _wells(session, ids)
        _plate_images(vault, session, docs, Well)
    else:
        raise ValueError(f"kind {kind!r}")
    by_key = {(d.kind, d.id): d for d in docs}
    if kind in ("project", "dataset", "image"):
        _annotations(vault, session, by_key)
    _people(session, docs)
    return docs


def model_of(kind: str) -> Any:
    return {"project": Project, "dataset": Dataset, "image": Image, "fileset": Fileset,
            "annotation": Annotation, "screen": Screen, "plate": Plate, "well": Well}[kind]


def _wells(session: Session, ids: list[int]) -> list[Doc]:
    """A well is found by its position ("B3") and its plate's name."""
    docs = []
    for well, plate in session.execute(select(Well, Plate).join(
            Plate, Plate.id == Well.plate_id).where(Well.id.in_(ids))):
        doc = Doc("well", well.id, well.owner_id, well.group_id, _utc(well.created_at),
                  _utc(well.updated_at))
        doc.add("name", label(well.row, plate.row_naming) + label(well.column,
                                                                   plate.column_naming))
        doc.add("description", plate.name)
        docs.append(doc)
    return docs


def _plate_images(vault: Vault, session: Session, docs: list[Doc], model: Any) -> None:
    """A plate or a well is found by its fields' images' tags, comments and key-value
    pairs too (each distinct annotation once; the import's original metadata left out,
    it is per image and large)."""
    if not docs:
        return
    owner = Well.plate_id if model is Plate else Well.id
    rows = session.execute(select(owner, Annotation).distinct().join(
        WellSample, WellSample.well_id == Well.id).join(
        AnnotationLink, (AnnotationLink.parent_kind == "image")
        & (AnnotationLink.parent_id == WellSample.image_id)).join(
        Annotation, Annotation.id == AnnotationLink.annotation_id).where(
        owner.in_([d.id for d in docs]), Annotation.kind != "file",
        Annotation.namespace != ORIGINAL_METADATA_NS)).all()
    entries = _entries(session, {a.id for _, a in rows})
    by_id = {d.id: d for d in docs}
    for object_id, annotation in rows:
        _fill_annotation(vault, by_id[object_id], annotation, entries.get(annotation.id, []),
                         {})


def everything(session: Session, kind: str, after: int, batch: int) -> list[int]:
    """The next ``batch`` ids of ``kind`` above ``after`` (a full reindex walks these)."""
    model = model_of(kind)
    return list(session.scalars(select(model.id).where(model.id > after)
                                .order_by(model.id).limit(batch)))


def related(session: Session, kind: str, ids: list[int]) -> dict[str, set[int]]:
    """What else must be indexed again when these objects change: the objects an
    annotation annotates; everything a renamed user owns or a renamed group holds."""
    found: dict[str, set[int]] = defaultdict(set)
    if kind == "annotation":
        for parent_kind, parent_id in session.execute(
                select(AnnotationLink.parent_kind, AnnotationLink.parent_id)
                .where(AnnotationLink.annotation_id.in_(ids))):
            found[parent_kind].add(parent_id)
        if found.get("image"):  # the plates and wells holding those images
            for well_id, plate_id in session.execute(
                    select(Well.id, Well.plate_id).join(WellSample, WellSample.well_id == Well.id)
                    .where(WellSample.image_id.in_(sorted(found["image"])))):
                found["well"].add(well_id)
                found["plate"].add(plate_id)
    elif kind in ("user", "group"):
        column = "owner_id" if kind == "user" else "group_id"
        for other, model in (("project", Project), ("dataset", Dataset), ("image", Image),
                             ("fileset", Fileset), ("annotation", Annotation),
                             ("screen", Screen), ("plate", Plate), ("well", Well)):
            found[other] |= set(session.scalars(select(model.id).where(
                getattr(model, column).in_(ids))))
    return found
