"""Regenerate README's tables from results.json and the files in reports/.

    python tools/update_readme.py

tests/test_project.py fails when README and the results files disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet.report import (  # noqa: E402
    dataset_markdown,
    results_markdown,
    spread_markdown,
    update_readme,
    variants_markdown,
)


def read(name: str) -> dict:
    return json.loads((ROOT / name).read_text())


def main() -> None:
    update_readme(
        ROOT / "README.md",
        {
            "results": results_markdown(read("results.json")),
            "seed-spread": spread_markdown(read("reports/seed_spread.json")),
            "variants": variants_markdown(read("reports/compare_variants.json")),
            "fashion-mnist": dataset_markdown(read("reports/fashion_mnist.json")),
        },
    )


if __name__ == "__main__":
    main()
