"""Regenerate README's tables (and the notebook's recipe-study table) from results.json and
the files in reports/.

    python tools/update_readme.py

tests/test_project.py fails when README and the results files disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet.config import TrainConfig
from tools.report import (
    dataset_markdown,
    replace_section,
    recipes_markdown,
    results_markdown,
    spread_markdown,
    study_markdown,
    update_readme,
    variants_markdown,
)


def read(name: str) -> dict:
    return json.loads((ROOT / name).read_text())


def update_notebook(path: Path, name: str, body: str) -> None:
    """Replace a marked section in the notebook's markdown cells, keeping everything else."""
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and f"<!-- {name}:start -->" in text:
            cell["source"] = replace_section(text, name, body).splitlines(keepends=True)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")


def main() -> None:
    study = study_markdown(read("reports/recipe_study.json"))
    default_spread = read(f"reports/seed_spread_{TrainConfig().recipe}.json")
    update_notebook(ROOT / "lenet_5.ipynb", "recipe-study", study)
    update_readme(
        ROOT / "README.md",
        {
            "recipe-study": study,
            "results": results_markdown(read("results.json")),
            "recipe-tests": recipes_markdown([default_spread, read("reports/seed_spread_original.json")]),
            "seed-spread": spread_markdown(default_spread),
            "variants": variants_markdown(read("reports/compare_variants.json")),
            "fashion-mnist": dataset_markdown(read("reports/fashion_mnist.json")),
        },
    )


if __name__ == "__main__":
    main()
