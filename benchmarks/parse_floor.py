"""The floor of a tree-sitter audit: read and parse every audited source file once, in one process.

python benchmarks/parse_floor.py ROOT        # prints files, lines and seconds
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from real_corpus import sources

from checks.engine import MAX_BYTES
from checks.parsing import language_for, parse


def main() -> int:
    root = Path(sys.argv[1])
    started = time.perf_counter()
    files = sources(root)
    lines = 0
    for path in files:
        language = language_for(path)
        if language is None:
            continue
        data = (root / path).read_bytes()
        if len(data) > MAX_BYTES:
            continue  # the audit skips these too
        lines += data.count(b"\n")
        parse(language, data)
    print(f"{len(files)} files, {lines} lines parsed in {time.perf_counter() - started:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
