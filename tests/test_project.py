"""Facts about the repository that must never drift: one home URL, a clean notebook."""

import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOME = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Homepage"]


def notebook() -> dict:
    return json.loads((ROOT / "lenet_5.ipynb").read_text())


def test_colab_badge_and_install_cell_point_to_the_one_home():
    cells = notebook()["cells"]
    owner_repo = HOME.removeprefix("https://github.com/")
    badge = "".join(cells[0]["source"])
    assert f"https://colab.research.google.com/github/{owner_repo}/blob/main/lenet_5.ipynb" in badge
    install = "".join(cells[1]["source"])
    assert f'REPOSITORY = "{HOME}"' in install and "google.colab" in install
    assert re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", (ROOT / "README.md").read_text()) == [HOME] * len(
        re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", (ROOT / "README.md").read_text())
    )


def test_parameters_cell_is_tagged_and_holds_the_documented_names():
    cells = notebook()["cells"]
    tagged = [cell for cell in cells if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    names = re.findall(r"^(\w+) =", "".join(tagged[0]["source"]), flags=re.M)
    assert names == ["DATA", "EPOCHS", "BATCH_SIZE", "SEED", "RECIPE", "VARIANT", "OUTPUT_DIR"]
    import lenet

    assert f'RECIPE = "{lenet.TrainConfig().recipe}"' in "".join(tagged[0]["source"])  # the same default


def test_notebook_metadata_is_clean():
    nb = notebook()
    assert set(nb["metadata"]) <= {"kernelspec", "language_info", "colab"}
    for cell in nb["cells"]:
        assert set(cell.get("metadata", {})) <= {"tags"}, cell["metadata"]


def committed_results() -> dict:
    return json.loads((ROOT / "results.json").read_text())


def test_committed_results_are_the_full_recipe_on_real_mnist():
    results = committed_results()
    assert results.get("resolved", results["config"])["epochs"] == 10 and results["config"]["batch_size"] == 64
    assert results["data"]["fingerprint"] == "06b0d1f124c4e5fa796686ade41a9b778edacc8622f2195a352ef479ad44fc16"
    assert results["data"]["sizes"] == {"train": 55_000, "validation": 5_000, "test": 10_000}
    assert all(len(results["history"][key]) == 10 for key in ("loss", "accuracy", "val_loss", "val_accuracy"))


def test_generated_tables_match_the_results_files():
    from tools.report import section
    from tools.update_readme import NOTEBOOK, generated_tables

    tables = generated_tables()
    assert set(tables) == {"README.md", "docs/recipe.md", "docs/beyond.md", "docs/paper.md", "docs/code.md", NOTEBOOK}
    for name, sections in tables.items():
        if name == NOTEBOOK:
            cells = ["".join(cell["source"]) for cell in notebook()["cells"] if cell["cell_type"] == "markdown"]
            for marker, body in sections.items():
                assert [section(cell, marker) for cell in cells if f"<!-- {marker}:start -->" in cell] == [body]
            continue
        text = (ROOT / name).read_text()
        for marker, body in sections.items():
            assert section(text, marker) == body, f"{name}: the {marker} table is stale; run tools/update_readme.py"


def test_the_tables_describe_the_chosen_recipe_and_the_committed_studies():
    import lenet

    results = committed_results()
    reports = ROOT / "reports"
    spread = json.loads((reports / f"seed_spread_{lenet.TrainConfig().recipe}.json").read_text())
    original = json.loads((reports / "seed_spread_original.json").read_text())
    study = json.loads((reports / "recipe_study.json").read_text())
    assert study["chosen"] == lenet.TrainConfig().recipe == results["config"]["recipe"]
    assert [spread["config"]["recipe"] for spread in (spread, original)] == [study["chosen"], "original"]
    comparison = json.loads((reports / "compare_variants.json").read_text())
    assert set(comparison["variants"]) == {"modern", "lenet5-1998"}
    for variant in comparison["variants"].values():
        assert [run["seed"] for run in variant["runs"]] == [0, 1, 2]
    assert comparison["config"]["epochs"] == 10 and comparison["data"]["sizes"]["train"] == 55_000
    fashion = json.loads((reports / "fashion_mnist.json").read_text())
    assert fashion.get("resolved", fashion["config"])["epochs"] == 10 and fashion["data"]["sizes"]["test"] == 10_000


def test_readme_is_for_a_newcomer_and_links_only_to_files_that_exist():
    readme = (ROOT / "README.md").read_text()
    assert len(readme) <= 12_000
    assert "<!-- test-command" in readme and "python -m pytest" in readme
    links = re.findall(r"\]\(((?!https?:)[^)#]+)\)", readme)
    for doc in (ROOT / "docs").glob("*.md"):
        links += [
            str((doc.parent / link).relative_to(ROOT))
            for link in re.findall(r"\]\(((?!https?:)[^)#]+)\)", doc.read_text())
        ]
    assert "docs/reproducibility.md" in links
    missing = [link for link in links if not (ROOT / link).resolve().exists()]
    assert not missing, missing


def test_notebook_outputs_come_from_the_committed_run():
    results = committed_results()
    printed = [
        "".join(output.get("text", ""))
        for cell in notebook()["cells"]
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
    ]
    expected = f"test accuracy {results['test']['accuracy']:.4f}, test loss {results['test']['loss']:.4f}"
    assert any(expected in text for text in printed)
    assert any(results["data"]["fingerprint"] in text for text in printed)
