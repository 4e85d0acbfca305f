"""Streaming uploads and downloads that check the bytes arrived as they left.

Uploads are hashed while they are read and compared with the checksum the
server computed from what it wrote; downloads are hashed while they are
written and compared with the server's ETag (``"ALGORITHM:HEX"``). A download
to a path goes to a temporary file beside it first, so a broken transfer never
leaves a half-written file under the wanted name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote

from pixelvault.errors import IntegrityError, InvalidInputError
from pixelvault.repository.checksums import ALGORITHMS, DEFAULT_ALGORITHM, Hasher, new_hasher

if TYPE_CHECKING:
    from pixelvault.client.http import Http

CHUNK = 1 << 20
Progress = Callable[[int, int | None], None]  # (bytes so far, total if known)
_FILENAME = re.compile(r"filename\*=UTF-8''([^;]+)")


def _chunks(stream: IO[bytes], hasher: Hasher, total: int | None,
            progress: Progress | None) -> Iterator[bytes]:
    done = 0
    while chunk := stream.read(CHUNK):
        hasher.update(chunk)
        done += len(chunk)
        if progress:
            progress(done, total)
        yield chunk


def upload(conn: Http, path: str, source: str | Path | IO[bytes], *,
           name: str | None = None, mimetype: str | None = None,
           progress: Progress | None = None) -> dict[str, Any]:
    """POST ``source`` as the body of ``path``; the answer is the new annotation."""
    headers = {"Content-Type": mimetype or "application/octet-stream"}
    hasher = new_hasher(DEFAULT_ALGORITHM)
    if isinstance(source, (str, Path)):
        source_path = Path(source)
        try:
            stream: IO[bytes] = source_path.open("rb")
        except OSError as exc:
            raise InvalidInputError(f"cannot read {source_path}: {exc.strerror}") from None
        name = name or source_path.name
        total: int | None = os.fstat(stream.fileno()).st_size
        headers["Content-Length"] = str(total)
    else:
        total = None
        stream = source
        name = name or getattr(source, "name", None) or "attachment"
    with stream:
        answer: dict[str, Any] = conn.request(
            "POST", path, params={"name": os.path.basename(str(name)) or "attachment"},
            content=_chunks(stream, hasher, total, progress), headers=headers)
    stored = answer.get("file") or {}
    if stored.get("hasher") == DEFAULT_ALGORITHM and stored.get("hash") != hasher.hexdigest():
        conn.request("DELETE", f"/api/v1/annotations/{answer['id']}")
        raise IntegrityError(f"the server stored other bytes than were sent for {name}; "
                             "its copy was removed, send it again")
    return answer


def _expected(etag: str) -> tuple[str, str] | None:
    algorithm, _, digest = etag.strip('"').partition(":")
    return (algorithm, digest) if algorithm in ALGORITHMS and digest else None


def download(conn: Http, file_id: int, target: str | Path | IO[bytes],
             progress: Progress | None = None, *, overwrite: bool = False) -> dict[str, str]:
    """Save file ``file_id`` to a path (a directory takes the file's own name) or a
    binary stream."""
    with conn.stream("GET", f"/api/v1/files/{file_id}") as response:
        match = _FILENAME.search(response.headers.get("content-disposition", ""))
        name = os.path.basename(unquote(match.group(1))) if match else f"file-{file_id}"
        expected = _expected(response.headers.get("etag", ""))
        hasher = new_hasher(expected[0] if expected else DEFAULT_ALGORITHM)
        length = response.headers.get("content-length")
        total = int(length) if length and length.isdigit() else None

        def chunks() -> Iterator[bytes]:
            done = 0
            for chunk in response.iter_bytes(CHUNK):
                hasher.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
                yield chunk

        if not isinstance(target, (str, Path)):
            for chunk in chunks():
                target.write(chunk)
            final: str = "<stream>"
        else:
            destination = Path(target)
            if destination.is_dir():
                destination = destination / (name or f"file-{file_id}")
            if destination.exists() and not overwrite:
                raise InvalidInputError(f"{destination} exists; choose another name, or "
                                        "overwrite it on purpose (--force)")
            partial = destination.with_name(f".{destination.name}.part")
            try:
                with partial.open("wb") as out:
                    for chunk in chunks():
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                if expected and hasher.hexdigest() != expected[1]:
                    raise IntegrityError(f"file {file_id} arrived damaged (checksum "
                                         "mismatch); nothing was saved, download it again")
                partial.replace(destination)
            except OSError as exc:
                raise InvalidInputError(
                    f"cannot write {destination}: {exc.strerror}; choose another place"
                ) from None
            finally:
                partial.unlink(missing_ok=True)
            final = str(destination)
    if expected and hasher.hexdigest() != expected[1]:
        raise IntegrityError(f"file {file_id} arrived damaged (checksum mismatch); "
                             "download it again")
    return {"name": name, "path": final, "hasher": expected[0] if expected else "",
            "hash": hasher.hexdigest()}
