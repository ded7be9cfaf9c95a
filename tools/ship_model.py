"""Ship a full run's trained weights inside the package.

    python tools/ship_model.py [RUN_DIR]    # default: the repository root (the notebook's run)

Writes lenet/weights/lenet5.weights.h5 (the weights alone: no optimizer state and no saved
config, which older Keras versions cannot read) and lenet/weights/results.json (the run's
results.json plus the shipped model's accuracy on the shipped sample's test digits, which
tests/test_shipped_model.py checks). `lenet predict IMAGE` and `lenet.load_model()` use them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import lenet
from lenet import artifacts
from lenet.model_file import SHIPPED_WEIGHTS


def main() -> None:
    run_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    results = json.loads((run_dir / artifacts.RESULTS_JSON).read_text())
    trained = lenet.load_model(run_dir / artifacts.MODEL_FILE)
    if results["config"]["variant"] != "modern":
        sys.exit("only the default variant ships (lenet.load_model() builds build_lenet5())")
    SHIPPED_WEIGHTS.parent.mkdir(exist_ok=True)
    model = lenet.build_lenet5()  # uncompiled: its weights file holds no optimizer state
    model.set_weights(trained.get_weights())
    model.save_weights(SHIPPED_WEIGHTS)
    sample = lenet.load_mnist("sample")
    predicted = lenet.predict_probabilities(lenet.load_model(), sample.x_test).argmax(axis=1)
    correct = int((predicted == sample.y_test).sum())
    results["shipped_model"] = {"sample_test_correct": correct, "sample_test_size": len(sample.y_test)}
    artifacts.save_json(SHIPPED_WEIGHTS.parent / artifacts.RESULTS_JSON, results)
    print(
        f"wrote {SHIPPED_WEIGHTS} ({SHIPPED_WEIGHTS.stat().st_size:,} bytes); "
        f"sample test digits right: {correct} of {len(sample.y_test)}"
    )


if __name__ == "__main__":
    main()
