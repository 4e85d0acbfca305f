"""Files store throughput: streaming write with a checksum, and range reads.

Baselines measured in the same run on the same disk: `cp` followed by
`sha1sum` (what a sysadmin would do by hand) and a plain sequential read.

    .venv/bin/python benchmarks/files_store.py --size-mib 512
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from pixelvault.repository import STORES, FilesStore, Layout, WriteGuard, identity
from pixelvault.sizes import Threshold

CHUNK = 1 << 20


def drop_caches() -> None:
    """Make every run start cold when we may (root); otherwise say so."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        print("  (page cache not dropped: not root)")


def chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while data := handle.read(CHUNK):
            yield data


def timed(label: str, size: int, func: object) -> float:
    drop_caches()
    start = time.perf_counter()
    func()  # type: ignore[operator]
    seconds = time.perf_counter() - start
    print(f"  {label:<42} {seconds:7.2f} s  {size / seconds / 1e6:8.1f} MB/s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--dir", type=Path, default=None, help="where to work (a real disk)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pv-bench-", dir=args.dir))
    try:
        source = work / "source.bin"
        size = args.size_mib << 20
        with source.open("wb") as handle:
            for _ in range(args.size_mib):
                handle.write(os.urandom(CHUNK))
        root = work / "repo"
        root.mkdir()
        for kind in STORES:
            (root / kind.value).mkdir()
        uuid = identity.new_uuid()
        identity.write_marker(Layout(root), uuid)
        store = FilesStore(WriteGuard(Layout(root), uuid, Threshold.parse("0"),
                                      Threshold.parse("0")))
        print(f"{args.size_mib} MiB file in {work}")

        def cp_sha1() -> None:
            subprocess.run(["cp", str(source), str(work / "copy.bin")], check=True)
            subprocess.run(["sync", str(work / "copy.bin")], check=True)
            subprocess.run(["sha1sum", str(work / "copy.bin")], check=True,
                           stdout=subprocess.DEVNULL)

        base = timed("baseline: cp + sync + sha1sum", size, cp_sha1)
        ours = timed("pixelvault Files store write (SHA1-160)", size,
                     lambda: store.write(1, chunks(source), ["SHA1-160"]))
        blake = timed("pixelvault Files store write (BLAKE3-256)", size,
                      lambda: store.write(2, chunks(source), ["BLAKE3-256"]))
        print(f"  ratio SHA1 write / baseline throughput: {base / ours:.2f}x")
        print(f"  ratio BLAKE3 write / baseline throughput: {base / blake:.2f}x")

        def raw_read() -> None:
            for _ in chunks(source):
                pass

        def store_read() -> None:
            for _ in store.read_range(1):
                pass

        raw = timed("baseline: sequential read", size, raw_read)
        read = timed("pixelvault read_range (whole file)", size, store_read)
        print(f"  ratio read / baseline throughput: {raw / read:.2f}x")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
