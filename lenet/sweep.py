"""Studies as Ray jobs: a grid of runs (seeds x variants x data x any TrainConfig field).

    runs = grid(["sample"], seed=[0, 1, 2, 3], variant=["modern", "classic"], epochs=2)
    study = sweep(runs, "runs/study")                       # a local Ray instance
    study = sweep(runs, "/shared/study", address="auto")     # the cluster this machine is in

Ray schedules the runs; this module adds what it cannot know (docs/sweep.md): a fresh worker
per run with `threads` CPUs and intra-op threads (the numbers of `lenet train`), a retry that
resumes from the run's checkpoint in OUT/runs/NAME (storage every node sees), OUT/sweep.json
to skip finished runs on a restart, and a bad grid refused before any run. Ray is imported
only when a sweep starts.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import socket
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lenet.config import TrainConfig
from lenet.errors import ConfigError, RunsFailed, SweepError, last_line

SWEEP_JSON = "sweep.json"
# Data sources that name a download or the shipped sample rather than a path.
NAMED_SOURCES = ("keras", "fashion_mnist", "sample")


@dataclasses.dataclass(frozen=True)
class Run:
    """One run of a sweep: a config, a data source, and whether to touch the test set."""

    config: TrainConfig
    data: str = "keras"
    evaluate_test: bool = True

    @property
    def name(self) -> str:
        """Its directory, OUT/runs/NAME: its data's basename, its seed and every field off the default."""
        defaults, config = TrainConfig().to_dict(), self.config.to_dict()
        off = [f"{key}-{_slug(str(config[key]))}" for key in config if key != "seed" and config[key] != defaults[key]]
        parts = [_slug(Path(self.data).name or self.data), f"seed-{self.config.seed}", *off]
        return "_".join(parts if self.evaluate_test else [*parts, "no-test"])

    def identity(self) -> dict[str, Any]:
        """What sweep.json records of the run, and all a restarted sweep compares (see finished_runs)."""
        return dict(name=self.name, data=self.data, config=self.config.to_dict(), evaluate_test=self.evaluate_test)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", text).strip("-") or "data"


def grid(data: str | Sequence[str] = "keras", evaluate_test: bool = True, **values: Any) -> list[Run]:
    """Every combination of `values` (TrainConfig fields, each a value or a list) per data source, seeds outermost
    when given first; an unknown field or a bad value raises ConfigError before anything runs."""
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


# --- What runs on a worker. Module-level, so Ray ships it by reference (the workers need lenet).


def train_run(config: dict[str, Any], data: str, output_dir: str, evaluate_test: bool) -> dict[str, Any]:
    """One run in a fresh worker, whose TF_NUM_INTRAOP_THREADS Ray's runtime_env has set (TensorFlow reads it once)."""
    start = time.perf_counter()
    import ray

    from lenet.checkpoint import saved_epochs
    from lenet.experiment import train_and_evaluate

    resumed = saved_epochs(output_dir)  # > 0 when an earlier attempt was cut short
    results = train_and_evaluate(TrainConfig(**config), data, output_dir, verbose=0, evaluate_test=evaluate_test)
    seconds = round(time.perf_counter() - start, 3)
    return {"results": results, "node": node_identity(ray), "seconds": seconds, "resumed_after_epoch": resumed}


def node_identity(ray: Any) -> dict[str, str]:
    context = ray.get_runtime_context()
    return {"id": context.get_node_id(), "ip": ray.util.get_node_ip_address(), "hostname": socket.gethostname()}


def missing_paths(paths: list[str]) -> dict[str, Any]:
    """The node, and the paths it lacks (a probe on every node before the sweep)."""
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
    """Train every run on Ray, each in a fresh worker with `threads` TensorFlow threads; return sweep.json's content.

    `address`: None starts a local Ray instance; "auto", "HOST:PORT" or "ray://HOST:10001" joins a cluster.
    A run whose worker or node dies is retried up to `retries` times from its checkpoint. A run that
    fails (e.g. a diverging loss) does not stop the others: RunsFailed names it after sweep.json is written.
    """
    names = [run.name for run in runs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if not runs or twice:
        problem = f"would share an output directory: {', '.join(twice)} (a value given twice?)"
        raise ConfigError("the grid holds no runs" if not runs else f"runs {problem}")
    if threads < 1:
        raise ConfigError(f"threads must be at least 1, got {threads}")
    out = Path(out).resolve()
    report = progress or (lambda line: None)
    done = finished_runs(out / SWEEP_JSON, runs)
    try:
        import ray
    except ImportError:
        raise SweepError("sweeps run on Ray, which is not installed: pip install 'lenet[sweep]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address or "local", include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    try:
        check_cluster(ray, sorted({worker_data(run.data) for run in runs if run.data not in NAMED_SOURCES}), threads)
        if done:
            report(f"{len(done)} of {len(runs)} runs already finished in {out / SWEEP_JSON}; skipping them")
        task = ray.remote(
            num_cpus=threads,
            max_calls=1,  # a fresh process per run: TensorFlow's threads are set when it starts
            max_retries=retries,
            retry_exceptions=False,
            scheduling_strategy="SPREAD",
            runtime_env={"env_vars": {"TF_NUM_INTRAOP_THREADS": str(threads)}},
        )(train_run)
        waiting = {
            task.options(name=run.name).remote(
                run.config.to_dict(), worker_data(run.data), str(out / "runs" / run.name), run.evaluate_test
            ): run
            for run in runs
            if run.name not in done
        }
        failed: dict[str, str] = {}
        result = {} if waiting else write_sweep(out, runs, done, failed)  # nothing was left to run
        while waiting:
            [ref], _ = ray.wait(list(waiting), num_returns=1)
            run = waiting.pop(ref)
            try:
                done[run.name] = {**run.identity(), "threads": threads, **ray.get(ref)}
                line = progress_line(done[run.name])
            except ray.exceptions.RayError as error:
                failed[run.name] = last_line(error)
                line = f"{run.name}: FAILED: {failed[run.name]}"
            report(f"[{len(done) + len(failed)}/{len(runs)}] {line}")
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
    on = [NodeAffinitySchedulingStrategy(node["NodeID"], soft=False) for node in nodes]
    try:
        answers = ray.get([probe.options(scheduling_strategy=strategy).remote(paths) for strategy in on])
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


def progress_line(entry: dict[str, Any]) -> str:
    results, node = entry["results"], entry["node"]
    test = results.get("test")
    measured, accuracy = ("test", test["accuracy"]) if test else ("validation", results["history"]["val_accuracy"][-1])
    resumed = f", resumed after epoch {entry['resumed_after_epoch']}" if entry.get("resumed_after_epoch") else ""
    return (
        f"{entry['name']}: {measured} accuracy {accuracy:.4f}, node {node['ip']} ({node['id'][:8]}), "
        f"{entry['seconds']:.1f} s{resumed}"
    )


def finished_runs(path: Path, runs: Sequence[Run]) -> dict[str, dict[str, Any]]:
    """The entries of the sweep.json at `path` (if any) that record one of `runs`, by name.

    The one test of "already done": an entry must record the run's whole identity, since a name
    alone is not unique across sweeps into one OUT (it keeps the data's basename only:
    /a/mnist.npz and /b/mnist.npz, or ./sample and the source "sample", share one). Such a run
    trains again in OUT/runs/NAME, where an interrupted other run's checkpoint refuses to resume.
    """
    if not path.exists():
        return {}
    identities = [run.identity() for run in runs]
    try:
        entries = json.loads(path.read_text())["runs"]
        return {
            entry["name"]: entry for entry in entries if {key: entry.get(key) for key in identities[0]} in identities
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise SweepError(
            f"{path}: not a sweep file ({error}); move it away or choose another output directory"
        ) from None


def write_sweep(out: Path, runs: Sequence[Run], done: dict[str, dict], failed: dict[str, str]) -> dict[str, Any]:
    """Write OUT/sweep.json: finished runs in grid order, failures, pending runs and the summary per group."""
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
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"n": len(values), "mean": statistics.mean(values), "std": std, "min": min(values), "max": max(values)}


def summarize(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per group of runs that differ only in their seed, in the order of their first runs."""
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
                "seconds_per_epoch": statistics.median(statistics.median(r["seconds_per_epoch"]) for r in results),
            }
        )
    return rows


def shared_config(results: dict[str, Any], varied: tuple[str, ...]) -> dict[str, Any]:
    """The run's config without the fields a comparison varies."""
    return {key: value for key, value in results["config"].items() if key not in varied}


def summary_markdown(summary: Sequence[dict[str, Any]]) -> str:
    """The summary as a table; a group is named by what varies between the groups."""
    names = ["data", *(summary[0]["config"] if summary else [])]
    labels = [[row["data"], *(row["config"].get(name) for name in names[1:])] for row in summary]
    varying = [i for i in range(len(names)) if len({repr(label[i]) for label in labels}) > 1]
    lines = [
        "| group | seeds | test accuracy, mean ± sd | min - max | final validation accuracy, mean ± sd "
        "| seconds per epoch (median) |",
        "|---|---|---|---|---|---|",
    ]
    for row, label in zip(summary, labels, strict=True):
        test, val = row["test_accuracy"], row["final_val_accuracy"]
        tested = f"**{test['mean']:.2%} ± {test['std']:.2%}** | {test['min']:.2%} - {test['max']:.2%}" if test else ""
        lines.append(
            f"| {', '.join(f'{names[i]} {label[i]}' for i in varying) or 'all runs'} | {', '.join(map(str, row['seeds']))} "
            f"| {tested or 'not tested |'} | {val['mean']:.2%} ± {val['std']:.2%} | {row['seconds_per_epoch']:.1f} |"
        )
    return "\n".join(lines)
