"""The webclient's form posts that clients use to change things, answered with
OMERO.web's JSON: renaming (``action/savename``), key-value pairs (``annotate_map``),
channel names (``edit_channel_names``), attachments (``annotate_file``) and deleting
an attachment (``action/delete/file``). QuPath's OMERO extension sends all five.

OMERO.web answers a refused change with HTTP 200 and ``{"bad": "true"}``; here it is
the refusal's own status (403, 404, 400) with a message, which such a client reads
as a failure too, since it looks for the success keys only.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from pixelvault.errors import InvalidInputError
from pixelvault.server.auth import current_caller, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import PathId, id_list
from pixelvault.services.objects import annotation, containers
from pixelvault.targets import parse_id

router = APIRouter(prefix="/webclient", tags=["omero-web"], route_class=JsonBodyRoute)
KINDS = ("image", "dataset", "project")
Kind = Annotated[str, Path(pattern="^(image|dataset|project)$")]
MAX_FORM_FIELDS = 1000
# The form is spooled to a temporary file before the objects it names are known:
# larger files go through the native attachments route, which streams into the store.
MAX_ATTACHMENT = 1 << 30
MAX_TARGETS = 100
DEFAULT_MAP_NS = "openmicroscopy.org/omero/client/mapAnnotation"


async def _form(request: Request) -> FormData:
    """The form, read only once the caller is known (and their CSRF token checked)."""
    await run_in_threadpool(current_caller, request)
    return await request.form(max_files=1, max_fields=MAX_FORM_FIELDS,
                              max_part_size=1 << 20)


def _ids(form: FormData, key: str) -> list[int]:
    return id_list(form.getlist(key), key, MAX_TARGETS)


def _targets(form: FormData) -> list[tuple[str, int]]:
    found = [(kind, object_id) for kind in KINDS for object_id in _ids(form, kind)]
    if not found:
        raise InvalidInputError("name the objects: image=ID, dataset=ID or project=ID")
    if len(found) > MAX_TARGETS:
        raise InvalidInputError(f"{len(found)} objects; at most {MAX_TARGETS} at a time")
    return found


@router.post("/action/savename/{kind}/{object_id}/")
async def savename(kind: Kind, object_id: PathId, request: Request) -> dict[str, Any]:
    """Form field ``name``: the object's new name."""
    form = await _form(request)
    name = str(form.get("name", ""))
    if not name.strip():
        raise InvalidInputError("send the new name in the form field name")

    def work() -> None:
        containers.update(vault_of(request).catalog, current_caller(request).actor, kind,
                          object_id, name=name)

    await run_in_threadpool(work)
    return {"bad": "false", "o_type": kind}


def _pairs(text: str) -> list[tuple[str, str]]:
    try:
        found = json.loads(text) if text else []
    except (ValueError, RecursionError):
        raise InvalidInputError('mapAnnotation is JSON: [["key", "value"], ...]') from None
    if not isinstance(found, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
            for p in found):
        raise InvalidInputError('mapAnnotation is a list of [key, value] string pairs')
    return [(key, value) for key, value in found]


@router.post("/annotate_map/")
async def annotate_map(request: Request) -> dict[str, Any]:
    """Form fields ``image``/``dataset``/``project`` (the objects), ``mapAnnotation``
    (``[["key", "value"], ...]``) and ``ns``; with ``annId`` the pairs of those maps
    are replaced instead (an empty list deletes them: ``{"annId": null}``)."""
    form = await _form(request)
    pairs = _pairs(str(form.get("mapAnnotation", "")))
    replacing = _ids(form, "annId")
    namespace = str(form.get("ns", "")) or DEFAULT_MAP_NS

    def work() -> dict[str, Any]:
        vault, actor = vault_of(request), current_caller(request).actor
        if replacing:
            for annotation_id in replacing:
                if pairs:
                    annotation.replace_values(vault.catalog, actor, annotation_id, pairs)
                else:
                    annotation.remove_annotation(vault, actor, annotation_id, kind="map")
            return {"annId": replacing if pairs else None}
        if not pairs:
            raise InvalidInputError("mapAnnotation holds no pairs: nothing to add")
        made = annotation.annotate_all(vault.catalog, actor, _targets(form), type="map",
                                       values=pairs, namespace=namespace)
        return {"annId": [info.id for info in made]}

    return await run_in_threadpool(work)


@router.post("/edit_channel_names/{image_id}/")
async def edit_channel_names(image_id: PathId, request: Request) -> dict[str, Any]:
    """Form fields ``channel0``, ``channel1``, ...: the channels' new names."""
    form = await _form(request)
    names: dict[int, str] = {}
    for key, value in form.multi_items():
        index = parse_id(key[7:]) if key.startswith("channel") else None
        if index is not None and isinstance(value, str):
            names[index] = value
    if not names:
        raise InvalidInputError("send the names as form fields channel0, channel1, ...")

    def work() -> dict[int, str]:
        return containers.rename_channels(vault_of(request).catalog,
                                          current_caller(request).actor, image_id, names)

    done = await run_in_threadpool(work)
    return {"channelNames": {f"channel{i}": name for i, name in sorted(done.items())},
            "imageCount": 1, "updateCount": 1}


@router.post("/annotate_file/", max_body_size=MAX_ATTACHMENT)
async def annotate_file(request: Request) -> dict[str, Any]:
    """A multipart form: the file in ``annotation_file``, the objects in ``image``,
    ``dataset`` or ``project``; answers the new file annotations' ids."""
    await run_in_threadpool(current_caller, request)  # before a byte is spooled
    async with request.form(max_files=1, max_fields=MAX_FORM_FIELDS,
                            max_part_size=1 << 20) as form:
        upload = form.get("annotation_file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInputError("send the file as the multipart field annotation_file")
        targets = _targets(form)
        made = await run_in_threadpool(_attach, request, upload, targets)
    return {"fileIds": [made]}


def _attach(request: Request, upload: UploadFile, targets: list[tuple[str, int]]) -> int:
    """One file, linked to every target (of one group)."""
    vault, actor = vault_of(request), current_caller(request).actor
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    upload.file.seek(0)
    kind, object_id = targets[0]
    pending = annotation.begin_attachment(vault, actor, kind, object_id, name=name,
                                          mimetype=upload.content_type or None,
                                          expected_size=upload.size or 0)
    try:
        while chunk := upload.file.read(1 << 20):
            pending.write(chunk)
    except BaseException:
        pending.abort()
        raise
    return annotation.finish_attachment(pending, actor, kind, object_id, also=targets).id


@router.post("/action/delete/file/{annotation_id}/")
def delete_file(annotation_id: PathId, request: Request) -> dict[str, Any]:
    """Deletes a file annotation and its file (the right to delete it is needed)."""
    annotation.remove_annotation(vault_of(request), current_caller(request).actor,
                                 annotation_id, kind="file")
    return {"bad": "false"}
