import json
import os
import stat
from pathlib import Path

import pytest

import lenet
from lenet import artifacts


def test_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "results.json"
    artifacts.save_json(target, {"history": {"loss": [1.0]}})
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # as any new file, not a temporary's 0600

    def crash(temporary):
        temporary.write_text("half a fi")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        artifacts.write_atomically(target, crash)
    assert json.loads(target.read_text()) == {"history": {"loss": [1.0]}}
    assert [path.name for path in tmp_path.iterdir()] == ["results.json"]


def test_results_png_can_be_redrawn_from_results_json(tmp_path):
    history = {"loss": [0.5, 0.3], "accuracy": [0.8, 0.9], "val_loss": [0.4, 0.35], "val_accuracy": [0.85, 0.88]}
    lenet.save_artifacts(tmp_path, {"history": history})
    (tmp_path / "results.png").unlink()
    lenet.save_artifacts(tmp_path, lenet.load_results(tmp_path / "results.json"))
    assert (tmp_path / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_load_results_refuses_what_is_not_a_results_file(tmp_path):
    (tmp_path / "other.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a lenet results file"):
        lenet.load_results(tmp_path / "other.json")
    with pytest.raises(ValueError, match="no such file"):
        lenet.load_results(tmp_path / "missing.json")


def half_then_crash(path):
    """Stand-in for a serializer that dies half way: a partial file, then an error."""
    Path(path).write_bytes(b"half a fi")
    raise OSError("disk full")


@pytest.mark.parametrize("artifact", ["results.json", "results.png", "lenet5.keras"])
def test_a_crash_while_saving_keeps_the_previous_artifact_and_no_temporary(tmp_path, monkeypatch, artifact):
    import keras
    import matplotlib.figure

    model = lenet.build_lenet5()
    history = {"loss": [0.5], "accuracy": [0.8], "val_loss": [0.4], "val_accuracy": [0.85]}
    lenet.save_artifacts(tmp_path, {"history": history}, model)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    if artifact == "results.json":
        monkeypatch.setattr(Path, "write_text", lambda path, text: half_then_crash(path))
    elif artifact == "results.png":
        monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda figure, path, **kwargs: half_then_crash(path))
    else:
        monkeypatch.setattr(model, "save", half_then_crash)
    with pytest.raises(OSError, match="disk full"):
        lenet.save_artifacts(tmp_path, {"history": {**history, "loss": [0.1]}}, model)
    assert (tmp_path / artifact).read_bytes() == before[artifact]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(before)
    assert keras.models.load_model(tmp_path / "lenet5.keras", safe_mode=True).count_params() == 61_706
