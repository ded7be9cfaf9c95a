"""Regenerate the generated tables in README.md, docs/ and the notebook's markdown from
results.json and the files in reports/.

    python tools/update_readme.py

tests/test_project.py fails when a table and the results files disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet.config import TrainConfig
from tools import code_size
from tools.report import (
    ablation_markdown,
    dataset_markdown,
    paper_markdown,
    replace_section,
    recipes_markdown,
    results_markdown,
    spread_markdown,
    study_markdown,
    update_readme,
    variants_markdown,
)

NOTEBOOK = "lenet_5.ipynb"


def ablation_rows() -> list[tuple[str, str]]:
    """scripts/ablation_1998.py's rows in order: (name, the change)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("ablation_1998", ROOT / "scripts" / "ablation_1998.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [(name, change) for name, change, *_ in module.ROWS]


def read(name: str) -> dict:
    return json.loads((ROOT / name).read_text())


def generated_tables() -> dict[str, dict[str, str]]:
    """File (relative to the repository) -> {marked section name: the table it must hold}."""
    study = study_markdown(read("reports/recipe_study.json"))
    default_spread = read(f"reports/seed_spread_{TrainConfig().recipe}.json")
    return {
        "README.md": {"results": results_markdown(read("results.json"), read("reports/paper_1998.json"))},
        "docs/paper.md": {
            "paper-table": paper_markdown(read("reports/paper_1998.json")),
            "ablation-table": ablation_markdown(read("reports/ablation_1998.json"), ablation_rows()),
        },
        "docs/recipe.md": {
            "recipe-study": study,
            "recipe-tests": recipes_markdown([default_spread, read("reports/seed_spread_original.json")]),
            "seed-spread": spread_markdown(default_spread),
        },
        "docs/beyond.md": {
            "variants": variants_markdown(read("reports/compare_variants.json")),
            "fashion-mnist": dataset_markdown(read("reports/fashion_mnist.json")),
        },
        "docs/code.md": {"code-size": code_size.markdown()},
        NOTEBOOK: {"recipe-study": study},
    }


def update_notebook(path: Path, sections: dict[str, str]) -> None:
    """Replace marked sections in the notebook's markdown cells, keeping everything else."""
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        for name, body in sections.items():
            if cell["cell_type"] == "markdown" and f"<!-- {name}:start -->" in text:
                text = replace_section(text, name, body)
                cell["source"] = text.splitlines(keepends=True)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")


def main() -> None:
    for name, sections in generated_tables().items():
        if name == NOTEBOOK:
            update_notebook(ROOT / name, sections)
        else:
            update_readme(ROOT / name, sections)


if __name__ == "__main__":
    main()
