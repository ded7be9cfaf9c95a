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
    assert names == ["DATA", "EPOCHS", "BATCH_SIZE", "SEED", "OUTPUT_DIR"]


def test_notebook_metadata_is_clean():
    nb = notebook()
    assert set(nb["metadata"]) <= {"kernelspec", "language_info", "colab"}
    for cell in nb["cells"]:
        assert set(cell.get("metadata", {})) <= {"tags"}, cell["metadata"]
