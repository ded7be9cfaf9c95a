"""`lenet sweep` and the study scripts on a real two-node Ray cluster on this machine, with a worker killed mid-run.

The cluster runs in tests/sweep_cluster.py, inside private network and PID namespaces
(`unshare`), so Ray talks over 127.0.0.1 only and every process it starts ends with it.
Where `unshare` is refused these tests skip with the reason, except in CI (CI=true), where
they must run. Without Ray (`pip install 'lenet[sweep]'`) they skip; README's test command
installs requirements.txt, which pins it.
"""

import concurrent.futures
import contextlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from test_reproducibility import SAMPLE_RUN  # `lenet train --data sample --epochs 2`, seed 42: reproduced exactly

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
# unshare: a network namespace with only loopback, and a PID namespace that ends every
# process Ray starts when the helper ends.
UNSHARE = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]


def require(ok: bool, reason: str) -> None:
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the Ray cluster tests")
        pytest.skip(reason)


def unshare_problem() -> str | None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "needs unshare and ip (util-linux, iproute2)"
    probe = subprocess.run([*UNSHARE, "sh", "-c", "ip link set lo up"], capture_output=True, text=True)
    return None if probe.returncode == 0 else f"unshare refused: {probe.stderr.strip()}"


@pytest.fixture(scope="module")
def cluster_report(tmp_path_factory):
    if importlib.util.find_spec("ray") is None:  # requirements.txt pins it, so README's test command has it
        pytest.skip("Ray is not installed (pip install 'lenet[sweep]')")
    problem = unshare_problem()
    require(problem is None, str(problem))
    out = tmp_path_factory.mktemp("cluster")
    # Ray's sockets and session files, and its auth token (under HOME), in a short private path.
    private = Path(tempfile.mkdtemp(prefix="lr", dir="/tmp"))
    # Every Ray process imports jsonschema, which builds rfc3987_syntax's grammar (from jupyter's dependencies, not
    # Ray's) for some 4 s of CPU; Ray checks no IRI, so the cluster's processes get the ImportError jsonschema expects.
    (private / "rfc3987_syntax.py").write_text("raise ImportError('not for the test cluster')\n")
    env = {**os.environ, "RAY_TMPDIR": str(private), "HOME": str(private), "PYTHONPATH": f"{ROOT}:{private}"}
    # Plain `lenet train` of seeds 0 and 1 (seed 42's is SAMPLE_RUN), made in this process while the cluster works
    # (not while it starts: a node whose raylet takes 30 s to register fails).
    helper_done = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        alone = pool.submit(train_alone, tmp_path_factory.mktemp("alone"), [0, 1], out / "cluster-up", helper_done)
        try:
            helper = subprocess.run(
                [
                    *UNSHARE,
                    "sh",
                    "-c",
                    'ip link set lo up && exec "$0" "$1" "$2"',
                    sys.executable,
                    str(ROOT / "tests" / "sweep_cluster.py"),
                    str(out),
                ],
                capture_output=True,
                text=True,
                timeout=400,
                env=env,
            )
        finally:
            helper_done.set()
            shutil.rmtree(private, ignore_errors=True)
        assert helper.returncode == 0, helper.stderr[-3000:]
        return json.loads((out / "report.json").read_text()), alone.result()


def train_alone(out: Path, seeds: list[int], cluster_up: Path, helper_done: threading.Event) -> dict[int, dict]:
    """`lenet train --data sample --epochs 2 --seed SEED` per seed, one after the other, with lenet's one-thread pin
    (conftest imported lenet before TensorFlow), once the cluster is up."""
    from lenet import cli

    while not cluster_up.exists() and not helper_done.wait(0.2):
        pass
    if not cluster_up.exists():
        return {}  # the helper failed; the fixture says why
    results = {}
    for seed in seeds:
        arguments = ["train", "--data", "sample", "--epochs", "2", "--seed", str(seed), "--out", str(out / str(seed))]
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli.main(arguments) == 0
        results[seed] = json.loads((out / str(seed) / "results.json").read_text())
    return results


def test_a_bad_data_path_is_refused_on_the_nodes_before_any_run(cluster_report):
    bad = cluster_report[0]["bad"]
    assert bad["code"] == 2 and not cluster_report[0]["bad_ran"]
    [line] = bad["stderr"].splitlines()
    assert line.startswith("lenet: error: data ") and "mnist.npz does not exist on node 127.0.0.1 (" in line
    assert line.endswith("); every node needs it at the same path")


def test_a_sweep_spreads_over_both_nodes_skips_finished_runs_and_survives_a_killed_worker(cluster_report):
    report, alone = cluster_report
    first, second = report["spread"]["sweep"], report["second"]
    entries = {entry["config"]["seed"]: entry for entry in second["runs"]}
    assert sorted(entries) == [0, 1, 42] and not second["failed"] and not second["pending"]
    # Both nodes ran runs, all on loopback.
    assert len({entry["node"]["id"] for entry in entries.values()}) == 2
    assert {entry["node"]["ip"] for entry in entries.values()} == {"127.0.0.1"}
    # Seeds 0 and 42 were not run again: their entries (node, seconds) are the first sweep's.
    assert [entries[0], entries[42]] == first["runs"]
    # A worker was killed after its run's first checkpoint; the retry resumed from it.
    killed = report["killed"]
    assert killed, "no worker was killed: the runs finished before the test could kill one"
    assert killed["name"] == entries[1]["name"] and entries[1]["resumed_after_epoch"] >= killed["state"] >= 1
    assert sum(entry["resumed_after_epoch"] > 0 for entry in entries.values()) == 1
    # `lenet sweep` said so, and printed the summary.
    printed = report["cli"]["stdout"]
    assert report["cli"]["code"] == 0 and "2 of 3 runs already finished in " in printed
    assert f"[3/3] {killed['name']}: test accuracy " in printed
    assert f"resumed after epoch {entries[1]['resumed_after_epoch']}\n| group | seeds |" in printed
    # One thread per run, and the numbers of plain `lenet train`: the undisturbed runs and the killed one.
    assert {(entry["threads"], entry["results"]["environment"]["intra_op_threads"]) for entry in entries.values()} == {
        (1, "1")
    }
    assert sorted(alone) == [0, 1]
    assert all(alone[seed]["environment"]["intra_op_threads"] == "1" for seed in alone)
    compared = ("config", "data", "history", "test")
    for seed, plain in [*alone.items(), (42, json.loads(SAMPLE_RUN.read_text()))]:
        assert [entries[seed]["results"][key] for key in compared] == [plain[key] for key in compared], seed
    summary = second["summary"]
    assert len(summary) == 1 and summary[0]["seeds"] == [0, 42, 1] and summary[0]["test_accuracy"]["n"] == 3


def test_the_seed_spread_script_summarises_its_sweep(cluster_report):
    spread, record = cluster_report[0]["spread"]["report"], cluster_report[0]["spread"]["sweep"]
    assert spread["config"]["recipe"] == "shift-2e-3" and spread["command"] == (
        "python scripts/seed_spread.py --recipe shift-2e-3 --data sample --seeds 0 42 --epochs 2"
    )
    assert [run["seed"] for run in spread["runs"]] == [0, 42]
    assert spread["summary"] == record["summary"][0]["test_accuracy"] and 0.5 < spread["summary"]["mean"] <= 1


def test_the_variant_comparison_trains_only_the_variant_the_sweep_lacks(cluster_report):
    report = cluster_report[0]
    variants, runs = report["variants"]["report"]["variants"], report["variants"]["sweep"]["runs"]
    assert list(variants) == ["modern", "lenet5-1998"]
    assert [run["seed"] for run in variants["lenet5-1998"]["runs"]] == [0]
    modern = next(entry for entry in runs if entry["config"]["variant"] == "modern")
    assert modern == report["second"]["runs"][0]  # seed 0 of the earlier sweeps, not trained again


def test_the_recipe_study_ranks_on_validation_without_the_test_set(cluster_report):
    study, record = cluster_report[0]["recipes"]["report"], cluster_report[0]["recipes"]["sweep"]
    assert set(study["ranking"]) == {"original", "shift-2e-3"} and study["chosen"] == study["ranking"][0]
    assert [entry["results"]["test"] for entry in record["runs"]] == [None, None]
    first, second = (study["candidates"][name] for name in study["ranking"])
    assert (first["mean_val_accuracy"], -first["mean_val_loss"]) >= (
        second["mean_val_accuracy"],
        -second["mean_val_loss"],
    )
