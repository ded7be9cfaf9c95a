"""Regenerate README's results tables from results.json and reports/seed_spread.json.

    python tools/update_readme.py

tests/test_project.py fails when README and the results files disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet.report import results_markdown, spread_markdown, update_readme  # noqa: E402


def main() -> None:
    results = json.loads((ROOT / "results.json").read_text())
    spread = json.loads((ROOT / "reports" / "seed_spread.json").read_text())
    update_readme(ROOT / "README.md", {"results": results_markdown(results), "seed-spread": spread_markdown(spread)})


if __name__ == "__main__":
    main()
