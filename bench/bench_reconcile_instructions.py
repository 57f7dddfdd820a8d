"""Instructions per person of one reconcile() call, counted by callgrind (exact, unlike wall-clock time on
a shared machine):

    PYTHONHASHSEED=0 valgrind --tool=callgrind --toggle-collect=builtin_eval --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/bench_reconcile_instructions.py 2000

Only the code under the one eval() below is counted: divide valgrind's "Collected" figure by the number
of people. A fixed hash seed keeps the count repeatable (string hashing is randomised per process).
The records are bench_reconcile.py's; a warm-up call first fills the transform memos and
loads what phonenumbers loads lazily, as a running sync would have.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_reconcile import OWNERS, _mapping, build  # noqa: E402
from connector.reconcile import COMPILED, reconcile  # noqa: E402


def main() -> None:
    people = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    mapping = _mapping(str(ROOT / "mappings"))
    records = build(5_000, people)  # noqa: F841 (read by the eval() below)
    reconcile(build(0, 500), mapping, owners=OWNERS)  # warm-up, not counted
    gc.disable()
    eval("reconcile(records, mapping, owners=OWNERS)")  # the counted region (--toggle-collect=builtin_eval)
    print(f"{people} people, core: {'compiled' if COMPILED else 'pure Python'}; "
          "instructions per person = callgrind's Collected / people")


if __name__ == "__main__":
    main()
