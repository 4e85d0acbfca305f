"""Re-opening a 2,000-page TIFF through its memo file against a cold parse, same run.

Each open is what a viewer's first request does: open the file, learn its
dimensions, read one plane (the last, so a parse must walk every page).

    .venv/bin/python -m benchmarks.memo --pages 2000 --repeat 20
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

from pixelvault.formats.members import Members
from pixelvault.formats.tiff import TiffReader
from pixelvault.repository import STORES, Layout
from pixelvault.repository.memo import MemoStore
from pixelvault.services.readers import open_original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pv-bench-memo-"))
    try:
        for store in STORES:
            (root / store.value).mkdir()
        path = root / "ManagedRepository" / "pages.tif"
        with tifffile.TiffWriter(path) as tif:
            for index in range(args.pages):
                tif.write(np.full((64, 64), index % 251, np.uint8), contiguous=False,
                          metadata=None)
        memos = MemoStore(Layout(root))
        last = args.pages - 1

        def cold() -> None:
            reader = TiffReader(path)
            reader.metadata()
            reader.read(0, 0, 0, 0, last, 0, 0, 64, 64)
            reader.close()

        def remembered() -> None:
            reader = open_original(memos, path, Members.beside(path))
            reader.metadata()
            reader.read(0, 0, 0, 0, last, 0, 0, 64, 64)
            reader.close()

        remembered()  # writes the memo
        assert memos.path(path).is_file()
        results = {}
        for label, func in (("cold parse (tifffile scans every page)", cold),
                            ("through the memo", remembered)):
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                func()
                times.append(time.perf_counter() - start)
            results[label] = statistics.median(times)
            print(f"  {label:<40} median {results[label] * 1000:8.2f} ms")
        base, fast = results.values()
        print(f"{args.pages}-page TIFF: the memo opens it {base / fast:.1f}x faster "
              "(aim: 10x)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
