"""Studies as Ray jobs: a grid of runs (seeds x variants x data x any TrainConfig field).

    runs = grid(["sample"], seed=[0, 1, 2, 3], variant=["modern", "classic"], epochs=2)
    study = sweep(runs, "runs/study")                       # a local Ray instance
    study = sweep(runs, "/shared/study", address="auto")     # the cluster this machine is in

Ray schedules the runs; this module adds only what Ray cannot know:

- each run is `lenet.train_and_evaluate` in a fresh worker process (a Ray task with
  `max_calls=1`) with `threads` CPUs and as many intra-op threads, so one run per core by
  default, and a run's numbers are those of `lenet train` with its config (which pins one
  intra-op thread; `TF_NUM_INTRAOP_THREADS=N lenet train` for `threads=N`);
- a run whose worker or node dies is retried by Ray and resumes from the checkpoint in its
  output directory (OUT/runs/NAME), so OUT must be storage every node sees;
- OUT/sweep.json is rewritten after every finished run, and a sweep started again with the
  same OUT skips the runs it records;
- a bad grid (an unknown field or value, a data path missing on a node) fails before any run.

Ray is an optional dependency (`pip install 'lenet[sweep]'`), imported only when a sweep
starts; `import lenet` never imports it.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import socket
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lenet.config import ConfigError, TrainConfig

SWEEP_JSON = "sweep.json"
# Data sources that name a download or the shipped sample rather than a path.
NAMED_SOURCES = ("keras", "fashion_mnist", "sample")


class SweepError(RuntimeError):
    """A sweep that cannot start (no Ray, a node without the data); raised before any run."""


class RunsFailed(SweepError):
    """Some runs failed (the others finished and sweep.json records them); names them and why."""


@dataclasses.dataclass(frozen=True)
class Run:
    """One run of a sweep: a config, a data source, and whether to touch the test set."""

    config: TrainConfig
    data: str = "keras"
    evaluate_test: bool = True

    @property
    def name(self) -> str:
        """The run's directory name: its data, its seed and every field off the default."""
        defaults = TrainConfig()
        parts = [_slug(Path(self.data).name or self.data), f"seed-{self.config.seed}"]
        for field in dataclasses.fields(TrainConfig):
            value = getattr(self.config, field.name)
            if field.name != "seed" and value != getattr(defaults, field.name):
                parts.append(f"{field.name}-{_slug(str(value))}")
        if not self.evaluate_test:
            parts.append("no-test")
        return "_".join(parts)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", text).strip("-") or "data"


def grid(data: str | Sequence[str] = "keras", evaluate_test: bool = True, **values: Any) -> list[Run]:
    """Every combination of `values` (TrainConfig fields, each a value or a list) for each data source.

    `grid("sample", seed=[0, 1], variant=["modern", "classic"], epochs=2)` gives 4 runs, seeds
    outermost. Any field works, e.g. a `recipe` field once TrainConfig has one; an unknown
    field or a bad value raises ConfigError before anything runs.
    """
    known = [field.name for field in dataclasses.fields(TrainConfig)]
    unknown = [name for name in values if name not in known]
    if unknown:
        raise ConfigError(f"TrainConfig has no field {', '.join(unknown)} (fields: {', '.join(known)})")
    axes = {name: list(value) if isinstance(value, (list, tuple)) else [value] for name, value in values.items()}
    sources = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    return [
        Run(TrainConfig(**dict(zip(axes, combination, strict=True))), str(source), evaluate_test)
        for source in sources
        for combination in itertools.product(*axes.values())
    ]


def check_runs(runs: Sequence[Run]) -> None:
    """Refuse an empty grid and runs that would share an output directory."""
    if not runs:
        raise ConfigError("the grid holds no runs")
    names = [run.name for run in runs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ConfigError(f"runs would share an output directory: {', '.join(twice)} (a value given twice?)")


# --- What runs on a worker. Module-level, so Ray ships it by reference (the workers need lenet).


def train_run(config: dict[str, Any], data: str, output_dir: str, evaluate_test: bool) -> dict[str, Any]:
    """One run in this (fresh) worker process; returns its results, node and seconds.

    The worker starts with TF_NUM_INTRAOP_THREADS in its environment (Ray's runtime_env),
    since TensorFlow reads its thread count once, when it starts.
    """
    start = time.perf_counter()
    import ray

    from lenet.checkpoint import saved_epochs
    from lenet.experiment import train_and_evaluate

    resumed = saved_epochs(output_dir)  # > 0 when an earlier attempt was cut short
    results = train_and_evaluate(TrainConfig(**config), data, output_dir, verbose=0, evaluate_test=evaluate_test)
    return {
        "results": results,
        "node": node_identity(ray),
        "seconds": round(time.perf_counter() - start, 3),
        "resumed_after_epoch": resumed,
    }


def node_identity(ray: Any) -> dict[str, str]:
    return {
        "id": ray.get_runtime_context().get_node_id(),
        "ip": ray.util.get_node_ip_address(),
        "hostname": socket.gethostname(),
    }


def missing_paths(paths: list[str]) -> dict[str, Any]:
    """The paths this node lacks, and the node (a probe run on every node before the sweep)."""
    import ray

    return {"node": node_identity(ray), "missing": [path for path in paths if not Path(path).exists()]}


# --- The driver.


def sweep(
    runs: Sequence[Run],
    out: str | Path,
    address: str | None = None,
    threads: int = 1,
    retries: int = 3,
    progress: Callable[[str], None] | None = print,
) -> dict[str, Any]:
    """Run every run on Ray, each in a fresh worker with `threads` TensorFlow threads; return sweep.json.

    `address`: None starts a local Ray instance (one run per `threads` cores); "auto",
    "HOST:PORT" or "ray://HOST:10001" joins a cluster. Each run writes its artifacts to
    OUT/runs/NAME; a run whose worker or node dies is retried up to `retries` times,
    resuming from its checkpoint. Runs already in OUT/sweep.json with the same config are
    skipped. A run that fails (e.g. a diverging loss) does not stop the others; SweepError
    names the failed runs at the end, after sweep.json is written.
    """
    check_runs(runs)
    if threads < 1:
        raise ConfigError(f"threads must be at least 1, got {threads}")
    out = Path(out).resolve()
    report = progress or (lambda line: None)
    previous = read_entries(out / SWEEP_JSON)
    done = {run.name: previous[run.name] for run in runs if same_run(previous.get(run.name), run)}
    todo = [run for run in runs if run.name not in done]
    sources = {run.data: worker_data(run.data) for run in runs}

    ray = import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=address or "local",
            include_dashboard=False,
            log_to_driver=False,
            logging_level="WARNING",
            configure_logging=True,
        )
    try:
        check_cluster(ray, sorted({path for source, path in sources.items() if source not in NAMED_SOURCES}), threads)
        if done:
            report(f"{len(done)} of {len(runs)} runs already finished in {out / SWEEP_JSON}; skipping them")
        task = ray.remote(
            num_cpus=threads,
            max_calls=1,
            max_retries=retries,
            retry_exceptions=False,
            scheduling_strategy="SPREAD",
            runtime_env={"env_vars": {"TF_NUM_INTRAOP_THREADS": str(threads)}},
        )(train_run)
        waiting = {
            task.options(name=run.name).remote(
                run.config.to_dict(), sources[run.data], str(out / "runs" / run.name), run.evaluate_test
            ): run
            for run in todo
        }
        failed: dict[str, str] = {}
        result = write_sweep(out, runs, done, failed)  # rewritten after every finished run
        while waiting:
            [ref], _ = ray.wait(list(waiting), num_returns=1)
            run = waiting.pop(ref)
            try:
                done[run.name] = {**run_identity(run), "threads": threads, **ray.get(ref)}
            except ray.exceptions.RayError as error:
                failed[run.name] = last_line(error)
                report(f"[{len(done) + len(failed)}/{len(runs)}] {run.name}: FAILED: {failed[run.name]}")
            else:
                report(f"[{len(done) + len(failed)}/{len(runs)}] {progress_line(done[run.name])}")
            result = write_sweep(out, runs, done, failed)
    finally:
        if started_here:
            ray.shutdown()
    if failed:
        raise RunsFailed(
            f"{len(failed)} of {len(runs)} runs failed (see {out / SWEEP_JSON}): "
            + "; ".join(f"{name}: {problem}" for name, problem in failed.items())
        )
    return result


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise SweepError("sweeps run on Ray, which is not installed: pip install 'lenet[sweep]'") from None
    return ray


def worker_data(source: str) -> str:
    """The data source as a worker gets it: a path made absolute (workers start elsewhere)."""
    return source if source in NAMED_SOURCES else str(Path(source).expanduser().resolve())


def check_cluster(ray: Any, paths: list[str], threads: int) -> None:
    """Fail with one line, before any run, if no node can run a run or a node lacks a data path."""
    nodes = [node for node in ray.nodes() if node["Alive"] and node["Resources"].get("CPU", 0) >= 1]
    largest = max((node["Resources"]["CPU"] for node in nodes), default=0)
    if largest < threads:
        raise SweepError(f"no node of the cluster has {threads} CPUs for a run's threads (the largest has {largest:g})")
    if not paths:
        return
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    probe = ray.remote(num_cpus=0, max_retries=0)(missing_paths)
    try:
        answers = ray.get(
            [
                probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)).remote(
                    paths
                )
                for node in nodes
            ]
        )
    except ray.exceptions.RayError as error:
        raise SweepError(
            f"could not check the data on every node (is lenet installed on each?): {last_line(error)}"
        ) from None
    for answer in answers:
        if answer["missing"]:
            node = answer["node"]
            raise SweepError(
                f"data {', '.join(answer['missing'])} does not exist on node {node['ip']} "
                f"({node['hostname']}, {node['id'][:8]}); every node needs it at the same path"
            )


def run_identity(run: Run) -> dict[str, Any]:
    return {"name": run.name, "data": run.data, "config": run.config.to_dict(), "evaluate_test": run.evaluate_test}


def same_run(entry: dict[str, Any] | None, run: Run) -> bool:
    """Whether sweep.json's entry is this finished run. Run.name is only its directory (names
    can collide: check_runs refuses that), and the checkpoint (which compares config and data
    the same way) guards unfinished runs inside their worker, where a finished one never goes."""
    return entry is not None and {
        key: entry.get(key) for key in ("name", "data", "config", "evaluate_test")
    } == run_identity(run)


def last_line(error: BaseException) -> str:
    """The useful end of a (Ray-wrapped) error: its last non-empty line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def progress_line(entry: dict[str, Any]) -> str:
    results, node = entry["results"], entry["node"]
    score = results.get("test") or {}
    measured = (
        f"test accuracy {score['accuracy']:.4f}"
        if score
        else f"validation accuracy {results['history']['val_accuracy'][-1]:.4f}"
    )
    resumed = f", resumed after epoch {entry['resumed_after_epoch']}" if entry.get("resumed_after_epoch") else ""
    return f"{entry['name']}: {measured}, node {node['ip']} ({node['id'][:8]}), {entry['seconds']:.1f} s{resumed}"


def read_entries(path: Path) -> dict[str, dict[str, Any]]:
    """The finished runs a sweep.json records, by name ({} if there is none yet)."""
    import json

    if not path.exists():
        return {}
    try:
        return {entry["name"]: entry for entry in json.loads(path.read_text())["runs"]}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SweepError(
            f"{path}: not a sweep file ({error}); move it away or choose another output directory"
        ) from None


def write_sweep(
    out: Path, runs: Sequence[Run], done: dict[str, dict[str, Any]], failed: dict[str, str]
) -> dict[str, Any]:
    """Write OUT/sweep.json: finished runs in grid order, failures, and the summary per group."""
    from lenet.artifacts import save_json

    entries = [done[run.name] for run in runs if run.name in done]
    content = {
        "runs": entries,
        "failed": [{"name": name, "error": problem} for name, problem in failed.items()],
        "pending": [run.name for run in runs if run.name not in done and run.name not in failed],
        "summary": summarize(entries),
    }
    save_json(out / SWEEP_JSON, content)
    return content


# --- Summaries: the numbers README tables use.


def spread(values: Sequence[float]) -> dict[str, float]:
    """Mean, sample standard deviation (0 for one value), min and max."""
    return {
        "n": len(values),
        "mean": statistics.mean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
    }


def summarize(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per group of runs that differ only in their seed: test and validation spread."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        key = repr((entry["data"], entry["evaluate_test"], sorted(shared_config(entry["results"], ("seed",)).items())))
        groups.setdefault(key, []).append(entry)
    rows = []
    for members in groups.values():
        results = [member["results"] for member in members]
        tested = all(result.get("test") for result in results)
        rows.append(
            {
                "data": members[0]["data"],
                "config": shared_config(results[0], ("seed",)),
                "seeds": [result["config"]["seed"] for result in results],
                "test_accuracy": spread([result["test"]["accuracy"] for result in results]) if tested else None,
                "final_val_accuracy": spread([result["history"]["val_accuracy"][-1] for result in results]),
                "seconds_per_epoch": statistics.median(
                    statistics.median(result["seconds_per_epoch"]) for result in results
                ),
            }
        )
    return rows


def shared_config(results: dict[str, Any], varied: tuple[str, ...]) -> dict[str, Any]:
    """The run's config without the fields a comparison varies."""
    return {key: value for key, value in results["config"].items() if key not in varied}


def summary_markdown(summary: Sequence[dict[str, Any]]) -> str:
    """The summary as a table; a group is named by what varies between the groups."""
    keys = (
        [("data", lambda row: row["data"])]
        + [(name, lambda row, name=name: row["config"].get(name)) for name in summary[0]["config"]]
        if summary
        else []
    )
    varying = [(name, value) for name, value in keys if len({repr(value(row)) for row in summary}) > 1]
    lines = [
        "| group | seeds | test accuracy, mean ± sd | min - max | final validation accuracy, mean ± sd "
        "| seconds per epoch (median) |",
        "|---|---|---|---|---|---|",
    ]
    for row in summary:
        name = ", ".join(f"{key} {value(row)}" for key, value in varying) or "all runs"
        test = row["test_accuracy"]
        val = row["final_val_accuracy"]
        lines.append(
            f"| {name} | {', '.join(map(str, row['seeds']))} "
            + (
                f"| **{test['mean']:.2%} ± {test['std']:.2%}** | {test['min']:.2%} - {test['max']:.2%} "
                if test
                else "| not tested | "
            )
            + f"| {val['mean']:.2%} ± {val['std']:.2%} | {row['seconds_per_epoch']:.1f} |"
        )
    return "\n".join(lines)
