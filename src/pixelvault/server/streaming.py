"""Request bodies of any size, handed to a writer in large pieces from a worker thread.

Network packets are small; disks like megabytes. The body is gathered into
pieces of ``spool`` bytes and each is written in the thread pool, so the
event loop never waits on the disk.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool


async def pump(request: Request, write: Callable[[bytes], None], spool: int = 4 << 20) -> None:
    buffer = bytearray()
    async for chunk in request.stream():
        buffer += chunk
        if len(buffer) >= spool:
            await run_in_threadpool(write, bytes(buffer))
            buffer.clear()
    if buffer:
        await run_in_threadpool(write, bytes(buffer))
