"""Rewrite the pinned reference runs from the code as it is now.

    .venv/bin/python tests/reference/regenerate.py

Do this only when a change of the model's numbers is intended, and say so in CHANGELOG.md
(what changed and why); ``tests/test_reference.py`` fails until then.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/helpers.py

from helpers import REFERENCE_DIR, reference_tables


def main() -> None:
    """Write every reference table and list the files written."""
    for name, table in reference_tables().items():
        table.to_csv(REFERENCE_DIR / name, index=False)
        print(f"wrote {REFERENCE_DIR / name} ({len(table)} rows)")
    print("Numbers of the model changed on purpose? Add a line to CHANGELOG.md saying why.")


if __name__ == "__main__":
    main()
