"""Ship a full run's trained model inside the package, weights only.

    python tools/ship_model.py [RUN_DIR]    # default: the repository root (the notebook's run)

Writes lenet/weights/lenet5.keras (the network and its weights, without the optimizer's
state: about a quarter of the run's file) and lenet/weights/results.json (the run's
results.json plus the shipped model's accuracy on the shipped sample's test digits, which
tests/test_shipped_model.py checks). `lenet predict IMAGE` and `lenet.load_model()` use it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import lenet
from lenet import artifacts
from lenet.model_file import SHIPPED_MODEL


def main() -> None:
    run_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    results = json.loads((run_dir / artifacts.RESULTS_JSON).read_text())
    trained = lenet.load_model(run_dir / artifacts.MODEL_FILE)
    model = lenet.build_lenet5(variant=results["config"]["variant"])  # uncompiled: no optimizer
    model.set_weights(trained.get_weights())
    SHIPPED_MODEL.parent.mkdir(exist_ok=True)
    artifacts.save_model(SHIPPED_MODEL, model)
    sample = lenet.load_mnist("sample")
    predicted = lenet.predict_probabilities(lenet.load_model(), sample.x_test).argmax(axis=1)
    correct = int((predicted == sample.y_test).sum())
    results["shipped_model"] = {"sample_test_correct": correct, "sample_test_size": len(sample.y_test)}
    artifacts.save_json(SHIPPED_MODEL.parent / artifacts.RESULTS_JSON, results)
    print(
        f"wrote {SHIPPED_MODEL} ({SHIPPED_MODEL.stat().st_size:,} bytes); "
        f"sample test digits right: {correct} of {len(sample.y_test)}"
    )


if __name__ == "__main__":
    main()
