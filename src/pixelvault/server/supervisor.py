"""Several server processes behind one port (and job workers beside them): a parent
that forks them and keeps them.

The parent binds the port, forks ``count`` children that each open their own
catalog connections and serve the shared socket (the kernel hands each new
connection to one of them), and waits. A child that dies (``kill -9``, a crash)
is replaced at once, under the same number; connections the others hold go on.
SIGTERM or SIGINT to the parent stops every child gracefully, then the parent.
A child that keeps dying within seconds of its start is a configuration error,
not bad luck: the parent gives up after a few and says so.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

QUICK_DEATH = 5.0  # seconds: a child that dies sooner failed to start
QUICK_DEATHS = 5  # in a row, and the parent gives up


def _child(index: int, serve_one: Callable[[int], None]) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    code = 0
    try:
        serve_one(index)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:  # the parent reports the death; the trace goes to the log
        log.exception("process %d failed", index)
        code = 1
    finally:
        logging.shutdown()
    os._exit(code)


def supervise(count: int, serve_one: Callable[[int], None]) -> int:
    """Run ``serve_one(index)`` in ``count`` forked processes until told to stop; the
    exit status for the parent."""
    children: dict[int, tuple[int, float]] = {}  # pid -> (index, started)
    stopping = False
    quick = 0

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:
            _child(index, serve_one)
        children[pid] = (index, time.monotonic())

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for index in range(count):
        spawn(index)
    log.info("%d processes started: %s", count, sorted(children))
    status = 0
    while children:
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        if pid not in children:
            continue
        index, started = children.pop(pid)
        if stopping:
            continue
        lived = time.monotonic() - started
        quick = quick + 1 if lived < QUICK_DEATH else 0
        reason = (f"signal {os.WTERMSIG(code)}" if os.WIFSIGNALED(code)
                  else f"status {os.waitstatus_to_exitcode(code)}")
        if quick >= QUICK_DEATHS:
            log.error("process %d keeps dying at start (%s); stopping all: see the "
                      "lines above for why", index, reason)
            status = 1
            stop(signal.SIGTERM, None)
            continue
        log.warning("process %d (pid %d) ended with %s after %.0f s; starting "
                    "another", index, pid, reason, lived)
        if quick:
            time.sleep(0.5 * quick)
        spawn(index)
    return status
