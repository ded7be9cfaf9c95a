"""A real two-node Ray cluster on this machine, for tests/test_sweep_cluster.py (not a test itself).

    unshare -n -p -f --mount-proc sh -c 'ip link set lo up && python tests/sweep_cluster.py OUT'

Run inside a network namespace of its own, where only loopback exists, so Ray's nodes bind
and advertise 127.0.0.1 (outside one, Ray advertises this machine's interface address), and
inside a PID namespace, so every process Ray starts ends when this script does. It makes
three sweeps with `lenet.sweep` and writes what it saw to OUT/report.json for the test:

1. a grid whose data path does not exist: refused before any run;
2. 2 runs (seeds 0, 1; 2 epochs on the sample), spread over both nodes;
3. the same OUT with seeds 0-2: seeds 0 and 1 are skipped, and once the run of seed 2
   has checkpointed its first epoch, its worker process is killed with SIGKILL; Ray
   retries the run, which resumes from its checkpoint.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from ray.cluster_utils import Cluster

from lenet.sweep import SweepError, grid, sweep


def kill_first_checkpointed_worker(runs_dir: Path, names: list[str], killed: dict, stop: threading.Event) -> None:
    """SIGKILL the worker of the first of `names` to checkpoint an epoch (Ray titles it ray::NAME)."""
    while not stop.is_set():
        for name in names:
            if (runs_dir / name / ".checkpoint" / "state.json").exists():
                for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
                    try:
                        title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
                    except OSError:
                        continue
                    if title == f"ray::{name}":
                        os.kill(pid, signal.SIGKILL)
                        killed.update(
                            name=name,
                            pid=pid,
                            state=json.loads((runs_dir / name / ".checkpoint" / "state.json").read_text())[
                                "epochs_done"
                            ],
                        )
                        return
        time.sleep(0.005)


def main(out: Path) -> None:
    started = time.perf_counter()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        report: dict = {"cluster_seconds": round(time.perf_counter() - started, 1)}
        try:
            sweep(grid(str(out / "missing" / "mnist.npz")), out / "bad", address=cluster.address, progress=None)
            report["bad"] = "no error"
        except SweepError as error:
            report["bad"] = str(error)
        report["bad_ran"] = (out / "bad" / "runs").exists()

        report["first"] = sweep(grid("sample", seed=[0, 1], epochs=2), out / "sweep", address=cluster.address)
        later = grid("sample", seed=[0, 1, 2], epochs=2)
        killed: dict = {}
        stop = threading.Event()
        killer = threading.Thread(
            target=kill_first_checkpointed_worker,
            args=(out / "sweep" / "runs", [run.name for run in later[2:]], killed, stop),
        )
        killer.start()
        try:
            report["second"] = sweep(later, out / "sweep", address=cluster.address)
        finally:
            stop.set()
            killer.join()
        report["killed"] = killed
        report["seconds"] = round(time.perf_counter() - started, 1)
    finally:
        cluster.shutdown()
    (out / "report.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
