"""`lenet sweep` on a real two-node Ray cluster on this machine, with a worker killed mid-run.

The cluster runs in tests/sweep_cluster.py, inside private network and PID namespaces
(`unshare`), so Ray talks over 127.0.0.1 only and every process it starts ends with it.
Where `unshare` is refused these tests skip with the reason, except in CI (CI=true), where
they must run. Without Ray (`pip install 'lenet[sweep]'`) they skip; README's test command
installs requirements.txt, which pins it.
"""

import concurrent.futures
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

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
    env = {**os.environ, "RAY_TMPDIR": str(private), "HOME": str(private), "PYTHONPATH": str(ROOT)}
    # The same runs one by one, made while the cluster starts (which mostly waits).
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        alone = pool.submit(train_one_by_one, tmp_path_factory.mktemp("alone"), [0, 1, 2])
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
                timeout=240,
                env=env,
            )
        finally:
            shutil.rmtree(private, ignore_errors=True)
        assert helper.returncode == 0, helper.stderr[-3000:]
        return json.loads((out / "report.json").read_text()), alone.result()


def train_one_by_one(out: Path, seeds: list[int]) -> dict[int, dict]:
    """Plain `lenet train` per seed (lenet's own one-thread pin), each a fresh process, two at a time."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TF_NUM_", "ONEDNN_"))}
    env["PYTHONPATH"] = str(ROOT)
    results = {}
    for pair in (seeds[:2], seeds[2:]):
        processes = {
            seed: subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "lenet",
                    "train",
                    "--data",
                    "sample",
                    "--epochs",
                    "2",
                    "--seed",
                    str(seed),
                    "--out",
                    str(out / f"seed-{seed}"),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for seed in pair
        }
        for seed, process in processes.items():
            _, stderr = process.communicate(timeout=240)
            assert process.returncode == 0, stderr[-2000:]
            results[seed] = json.loads((out / f"seed-{seed}" / "results.json").read_text())
    return results


def test_a_bad_data_path_is_refused_on_the_nodes_before_any_run(cluster_report):
    report, _alone = cluster_report
    assert "does not exist on node 127.0.0.1" in report["bad"] and "mnist.npz" in report["bad"]
    assert "\n" not in report["bad"] and not report["bad_ran"]


def test_a_sweep_spreads_over_both_nodes_skips_finished_runs_and_survives_a_killed_worker(cluster_report):
    report, alone = cluster_report
    first, second = report["first"], report["second"]
    entries = {entry["config"]["seed"]: entry for entry in second["runs"]}
    assert sorted(entries) == [0, 1, 2] and not second["failed"] and not second["pending"]
    # Both nodes ran runs, all on loopback.
    assert len({entry["node"]["id"] for entry in entries.values()}) == 2
    assert {entry["node"]["ip"] for entry in entries.values()} == {"127.0.0.1"}
    # Seeds 0 and 1 were not run again: their entries (node, seconds) are the first sweep's.
    assert [entries[0], entries[1]] == first["runs"]
    # A worker was killed after its run's first checkpoint; the retry resumed from it.
    killed = report["killed"]
    assert killed, "no worker was killed: the runs finished before the test could kill one"
    victim = next(entry for entry in entries.values() if entry["name"] == killed["name"])
    assert victim["resumed_after_epoch"] >= killed["state"] >= 1
    assert sum(entry["resumed_after_epoch"] > 0 for entry in entries.values()) == 1
    # Every run, the killed one included, has the numbers of plain `lenet train`.
    for seed, entry in entries.items():
        assert entry["threads"] == 1 and entry["results"]["environment"]["intra_op_threads"] == "1"
        assert entry["results"]["history"] == alone[seed]["history"], seed
        assert entry["results"]["test"] == alone[seed]["test"], seed
    summary = second["summary"]
    assert len(summary) == 1 and summary[0]["seeds"] == [0, 1, 2]
    assert summary[0]["test_accuracy"]["n"] == 3
