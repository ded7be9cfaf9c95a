"""A real two-node Ray cluster on this machine, for tests/test_sweep_cluster.py (not a test itself).

    unshare -n -p -f --mount-proc sh -c 'ip link set lo up && python tests/sweep_cluster.py OUT'

Run inside a network namespace of its own, where only loopback exists, so Ray's nodes bind
and advertise 127.0.0.1 (outside one, Ray advertises this machine's interface address), and
inside a PID namespace, so every process Ray starts ends when this script does. Every sweep
joins the cluster as a user's would (--address), and OUT/report.json records what it saw:

1. scripts/seed_spread.py, seeds 0 and 42 (2 epochs on the sample), spread over both nodes;
2. meanwhile, `lenet sweep` of a data path that does not exist: refused before any run;
3. `lenet sweep` into the same OUT with seeds 0, 42 and 1: seeds 0 and 42 are skipped, and once the
   run of seed 1 has checkpointed its first epoch, its worker process is killed with SIGKILL;
   Ray retries the run, which resumes from its checkpoint;
4. scripts/compare_variants.py into the same OUT, seed 0: trains only the lenet5-1998 variant;
5. scripts/recipe_study.py, a sweep of its own: two recipes, one epoch, validation only; started
   with 3, its runs take the CPU that 3 and 4 (one run at a time) leave idle.

Each study script runs as a user runs it, `python scripts/NAME.py ... --address ADDRESS`.
"""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
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


def study(name: str, runs: Path, address: str, *arguments: str | int) -> Callable[[], dict]:
    """Start `python scripts/NAME --runs RUNS ... --address ADDRESS`; the function returned waits for it to end
    well and gives its report and its sweep.json."""
    out = runs.parent / f"{Path(name).stem}.json"
    command = [sys.executable, ROOT / "scripts" / name, "--runs", runs, "--out", out, "--address", address, *arguments]
    with out.with_suffix(".stderr").open("w") as stderr:  # a file: a pipe nobody reads while it runs could fill up
        process = subprocess.Popen(list(map(str, command)), stdout=subprocess.DEVNULL, stderr=stderr)

    def finished() -> dict:
        if process.wait(timeout=300) != 0:
            raise SystemExit(f"{name} exited with {process.returncode}: {out.with_suffix('.stderr').read_text()}")
        return {"report": json.loads(out.read_text()), "sweep": json.loads((runs / "sweep.json").read_text())}

    return finished


def main(out: Path) -> None:
    started = time.perf_counter()
    # Without the processes these sweeps never use (the autoscaler's monitor, the log monitor: log_to_driver=False).
    node = {"num_cpus": 1, "include_log_monitor": False}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False, "no_monitor": True})
    try:
        cluster.add_node(**node)
        cluster.wait_for_nodes()
        address, sweep = cluster.address, out / "sweep"
        (out / "cluster-up").touch()
        report: dict = {"cluster_seconds": round(time.perf_counter() - started, 1)}
        sample = ["--data", "sample", "--epochs", 2]
        spread = study("seed_spread.py", sweep, address, *sample, "--seeds", 0, 42)
        missing = out / "missing" / "mnist.npz"
        report["bad"] = lenet("sweep", "--data", missing, "--out", out / "bad", "--address", address)
        report["bad_ran"] = (out / "bad").exists()
        report["spread"] = spread()
        recipes = ["--data", "sample", "--recipes", "original", "shift-2e-3", "--seeds", 0, "--epochs", 1]
        recipe_study = study("recipe_study.py", out / "recipes", address, *recipes)
        killed: dict = {}
        stop = threading.Event()
        names = [run.name for run in grid("sample", seed=1, epochs=2)]
        killer = threading.Thread(target=kill_first_checkpointed_worker, args=(sweep / "runs", names, killed, stop))
        killer.start()
        try:
            report["cli"] = lenet("sweep", *sample, "--seeds", "0,42,1", "--out", sweep, "--address", address)
        finally:
            stop.set()
            killer.join()
        report["killed"] = killed
        report["second"] = json.loads((sweep / "sweep.json").read_text())
        report["variants"] = study("compare_variants.py", sweep, address, *sample, "--seeds", 0)()
        report["recipes"] = recipe_study()
        report["seconds"] = round(time.perf_counter() - started, 1)
    finally:
        cluster.shutdown()
    (out / "report.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
