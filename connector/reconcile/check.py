"""``python -m connector.reconcile.check DIR``: validates mapping files and prints every problem."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .errors import MappingError
from .loader import load_mappings

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Returns 0 when the mapping files in the directory are valid, 1 (and prints problems) otherwise."""
    args = list(sys.argv[1:] if argv is None else argv)
    directory = args[0] if args else "mappings"
    try:
        m = load_mappings(directory)
    except MappingError as exc:
        print(exc, file=sys.stderr)
        return 1
    opp = len(m.opportunities.fields) if m.opportunities else 0
    companies = f", {len(m.companies.fields)} company fields" if m.companies else ""
    print(f"{directory}: OK ({len(m.contacts.fields)} contact fields, {opp} opportunity fields{companies})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
