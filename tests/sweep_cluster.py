"""A real two-node Ray cluster on this machine, for tests/test_sweep_cluster.py (not a test itself).

    unshare -n -p -f --mount-proc sh -c 'ip link set lo up && python tests/sweep_cluster.py OUT'

Run inside a network namespace of its own, where only loopback exists, so Ray's nodes bind
and advertise 127.0.0.1 (outside one, Ray advertises this machine's interface address), and
inside a PID namespace, so every process Ray starts ends when this script does. Every sweep
joins the cluster as a user's would (--address), and OUT/report.json records what it saw:

1. `lenet sweep` of a data path that does not exist: refused before any run;
2. scripts/seed_spread.py, seeds 0 and 1 (2 epochs on the sample), spread over both nodes;
3. `lenet sweep` into the same OUT with seeds 0-2: seeds 0 and 1 are skipped, and once the run
   of seed 2 has checkpointed its first epoch, its worker process is killed with SIGKILL;
   Ray retries the run, which resumes from its checkpoint;
4. scripts/compare_variants.py into the same OUT, seed 0: trains only the lenet5-1998 variant;
5. scripts/recipe_study.py: two recipes, one epoch, validation only.
"""

import contextlib
import io
import json
import os
import runpy
import signal
import sys
import threading
import time
from pathlib import Path

from ray.cluster_utils import Cluster

from lenet import cli
from lenet.sweep import grid

ROOT = Path(__file__).resolve().parents[1]


def kill_first_checkpointed_worker(runs_dir: Path, names: list[str], killed: dict, stop: threading.Event) -> None:
    """SIGKILL the worker of the first of `names` to checkpoint an epoch (Ray titles it ray::NAME)."""
    while not stop.is_set():
        for name in names:
            state = runs_dir / name / ".checkpoint" / "state.json"
            if state.exists():
                for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
                    try:
                        title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
                    except OSError:
                        continue
                    if title == f"ray::{name}":
                        os.kill(pid, signal.SIGKILL)
                        killed.update(name=name, pid=pid, state=json.loads(state.read_text())["epochs_done"])
                        return
        time.sleep(0.005)


def lenet(*arguments: str | int | Path) -> dict:
    """`lenet ARGUMENTS` in this process: its exit code and what it printed."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli.main(list(map(str, arguments)))
    return {"code": code, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}


def study(name: str, runs: Path, address: str, *arguments: str | int) -> dict:
    """`python scripts/NAME --runs RUNS ...` on the cluster, run in this process: its report and its sweep.json."""
    out = runs.parent / f"{Path(name).stem}.json"
    sys.argv = [name, "--runs", str(runs), "--out", str(out), "--address", address, *map(str, arguments)]
    runpy.run_path(str(ROOT / "scripts" / name), run_name="__main__")
    return {"report": json.loads(out.read_text()), "sweep": json.loads((runs / "sweep.json").read_text())}


def main(out: Path) -> None:
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT / "scripts"))  # as `python scripts/NAME.py` has it
    # Without the processes these sweeps never use (the autoscaler's monitor, the log monitor: log_to_driver=False).
    node = {"num_cpus": 1, "include_log_monitor": False}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False, "no_monitor": True})
    try:
        cluster.add_node(**node)
        cluster.wait_for_nodes()
        address, sweep = cluster.address, out / "sweep"
        (out / "cluster-up").touch()
        report: dict = {"cluster_seconds": round(time.perf_counter() - started, 1)}
        missing = out / "missing" / "mnist.npz"
        report["bad"] = lenet("sweep", "--data", missing, "--out", out / "bad", "--address", address)
        report["bad_ran"] = (out / "bad").exists()

        sample = ["--data", "sample", "--epochs", 2]
        report["spread"] = study("seed_spread.py", sweep, address, *sample, "--seeds", 0, 1)
        killed: dict = {}
        stop = threading.Event()
        names = [run.name for run in grid("sample", seed=2, epochs=2)]
        killer = threading.Thread(target=kill_first_checkpointed_worker, args=(sweep / "runs", names, killed, stop))
        killer.start()
        try:
            report["cli"] = lenet("sweep", *sample, "--seeds", "0,1,2", "--out", sweep, "--address", address)
        finally:
            stop.set()
            killer.join()
        report["killed"] = killed
        report["second"] = json.loads((sweep / "sweep.json").read_text())
        report["variants"] = study("compare_variants.py", sweep, address, *sample, "--seeds", 0)
        recipes = ["--recipes", "original", "shift-2e-3", "--seeds", 0, "--epochs", 1]
        report["recipes"] = study("recipe_study.py", out / "recipes", address, "--data", "sample", *recipes)
        report["seconds"] = round(time.perf_counter() - started, 1)
    finally:
        cluster.shutdown()
    (out / "report.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
