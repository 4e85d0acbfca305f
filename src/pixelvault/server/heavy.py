"""Heavy work of a request (reading an uploaded fileset, statistics of new pixels) on a
small pool of its own: the request waits without holding one of the server's request
threads, so however many imports finish at once, `/health`, tiles and the rest go on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from fastapi import Request

T = TypeVar("T")


def make_pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pixelvault-heavy")


async def run_heavy(request: Request, work: Callable[[], T]) -> T:
    """``work()`` on the app's heavy-work pool (``import.workers`` threads)."""
    pool: ThreadPoolExecutor = request.app.state.heavy_pool
    return await asyncio.wrap_future(pool.submit(work))
