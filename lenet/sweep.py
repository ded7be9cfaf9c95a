"""Studies on Ray: `grid` makes the runs (data sources x TrainConfig fields), `sweep` trains them (docs/sweep.md).

Ray runs each in a fresh worker and retries it when the worker dies; ours adds what Ray lacks: the retry resumes from
the run's checkpoint, and a restarted sweep skips the runs OUT/sweep.json records as finished.
"""

import contextlib
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

from lenet.artifacts import save_json
from lenet.config import TrainConfig
from lenet.data import NAMED_SOURCES
from lenet.errors import ConfigError, RunsFailed, SweepError, last_line

SWEEP_JSON = "sweep.json"


@dataclasses.dataclass(frozen=True)
class Run:
    """One run of a sweep: a config, a data source, and whether to touch the test set."""

    config: TrainConfig
    data: str = "keras"
    evaluate_test: bool = True

    @property
    def name(self) -> str:
        """Its directory, OUT/runs/NAME: its data's basename, its seed and every field off the default."""
        defaults, config = settings(TrainConfig()), settings(self.config)
        off = [f"{key}-{slug(str(value))}" for key, value in config.items() if key != "seed" and value != defaults[key]]
        parts = [slug(Path(self.data).name or self.data), f"seed-{self.config.seed}", *off]
        return "_".join(parts if self.evaluate_test else [*parts, "no-test"])

    def identity(self) -> dict[str, Any]:
        """What sweep.json records of the run. A restart skips a run only if all of it matches: a name keeps only the
        data's basename, so /a/mnist.npz and /b/mnist.npz, or ./sample and "sample", share one."""
        return dict(name=self.name, data=self.data, config=settings(self.config), evaluate_test=self.evaluate_test)


def settings(config: TrainConfig) -> dict[str, Any]:
    """A config's fields with its resolved epochs: `--epochs 10` and the default are one run (and sweeps recorded
    before recipes could carry a length, whose configs say 10, still resume)."""
    return {**config.to_dict(), "epochs": config.resolved_epochs}


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", text).strip("-") or "data"


def grid(data: str | Sequence[str] = "keras", evaluate_test: bool = True, **values: Any) -> list[Run]:
    """Every combination of `values` (TrainConfig fields, each a value or a list) per data source, the first field
    outermost; an unknown field or a bad value raises ConfigError before anything runs."""
    known = [field.name for field in dataclasses.fields(TrainConfig)]
    unknown = [name for name in values if name not in known]
    if unknown:
        raise ConfigError(f"TrainConfig has no field {', '.join(unknown)} (fields: {', '.join(known)})")
    axes = [value if isinstance(value, (list, tuple)) else [value] for value in values.values()]
    sources = [data] if isinstance(data, (str, os.PathLike)) else data
    return [
        Run(TrainConfig(**dict(zip(values, combination, strict=True))), str(source), evaluate_test)
        for source in sources
        for combination in itertools.product(*axes)
    ]


# On the workers; module-level, so Ray ships them by reference (every node has lenet installed).
def train_run(config: dict[str, Any], data: str, output_dir: str, evaluate_test: bool) -> dict[str, Any]:
    """One run, in a worker whose TF_NUM_INTRAOP_THREADS Ray's runtime_env set before TensorFlow read it."""
    start = time.perf_counter()
    from lenet.checkpoint import saved_epochs
    from lenet.experiment import train_and_evaluate

    resumed = saved_epochs(output_dir)  # > 0 when an earlier attempt was cut short
    results = train_and_evaluate(TrainConfig(**config), data, output_dir, verbose=0, evaluate_test=evaluate_test)
    seconds = round(time.perf_counter() - start, 3)
    return {"results": results, "node": node_identity(), "seconds": seconds, "resumed_after_epoch": resumed}


def node_identity() -> dict[str, str]:
    import ray

    node_id = ray.get_runtime_context().get_node_id()
    return {"id": node_id, "ip": ray.util.get_node_ip_address(), "hostname": socket.gethostname()}


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
    A run whose worker or node dies is retried up to `retries` times from its checkpoint in OUT/runs/NAME (storage
    every node sees). A run that fails (a diverging loss) does not stop the others: RunsFailed names it once sweep.json
    records them.
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
    options = dict(include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    with contextlib.nullcontext() if ray.is_initialized() else ray.init(address or "local", **options):
        check_nodes(ray, sorted({worker_data(run.data) for run in runs if run.data not in NAMED_SOURCES}), threads)
        if done:
            report(f"{len(done)} of {len(runs)} runs already finished in {out / SWEEP_JSON}; skipping them")
        task = ray.remote(
            num_cpus=threads,
            max_calls=1,  # a fresh process per run: TensorFlow reads its thread count once, when it loads
            max_retries=retries,
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
        while True:  # sweep.json: finished runs in grid order, failures, pending runs and the summary per group
            entries = [done[run.name] for run in runs if run.name in done]
            content = {
                "runs": entries,
                "failed": [{"name": name, "error": problem} for name, problem in failed.items()],
                "pending": [run.name for run in runs if run.name not in done and run.name not in failed],
                "summary": summarize(entries),
            }
            save_json(out / SWEEP_JSON, content)
            if not waiting:
                break
            [ref], _ = ray.wait(list(waiting))
            run = waiting.pop(ref)
            try:
                done[run.name] = {**run.identity(), "threads": threads, **ray.get(ref)}
                report(f"[{len(done) + len(failed)}/{len(runs)}] {progress_line(done[run.name])}")
            except ray.exceptions.RayError as error:
                failed[run.name] = last_line(error)
                report(f"[{len(done) + len(failed)}/{len(runs)}] {run.name}: FAILED: {failed[run.name]}")
    if failed:
        problems = "; ".join(f"{name}: {problem}" for name, problem in failed.items())
        raise RunsFailed(f"{len(failed)} of {len(runs)} runs failed (see {out / SWEEP_JSON}): {problems}")
    return content


def worker_data(source: str) -> str:
    """The data source as a worker gets it: a path made absolute (workers start elsewhere)."""
    return source if source in NAMED_SOURCES else str(Path(source).expanduser().resolve())


def check_nodes(ray: Any, paths: list[str], threads: int) -> None:
    """Fail with one line, before any run, if no node has `threads` CPUs (Ray would wait for one forever) or a node
    lacks a data path."""
    nodes = [node for node in ray.nodes() if node["Alive"] and node["Resources"].get("CPU", 0) >= 1]
    largest = max((node["Resources"]["CPU"] for node in nodes), default=0)
    if largest < threads:
        raise SweepError(f"no node of the cluster has {threads} CPUs for a run's threads (the largest has {largest:g})")
    if not paths:
        return
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    probe = ray.remote(num_cpus=0, max_retries=0)(
        lambda: {"node": node_identity(), "missing": [path for path in paths if not Path(path).exists()]}
    )
    on_each = [NodeAffinitySchedulingStrategy(node["NodeID"], soft=False) for node in nodes]
    try:
        answers = ray.get([probe.options(scheduling_strategy=strategy).remote() for strategy in on_each])
    except ray.exceptions.RayError as error:
        message = f"could not check the data on every node (is lenet installed on each?): {last_line(error)}"
        raise SweepError(message) from None
    for answer in answers:
        if answer["missing"]:
            node = answer["node"]
            raise SweepError(
                f"data {', '.join(answer['missing'])} does not exist on node {node['ip']} "
                f"({node['hostname']}, {node['id'][:8]}); every node needs it at the same path"
            )


def progress_line(entry: dict[str, Any]) -> str:
    results, node = entry["results"], entry["node"]
    test, history = results.get("test"), results["history"]
    if test:
        measured, accuracy = "test", test["accuracy"]
    else:  # untested: the last validation accuracy, or without a validation set the training accuracy
        measured = "validation" if "val_accuracy" in history else "training"
        accuracy = history["val_accuracy" if "val_accuracy" in history else "accuracy"][-1]
    resumed = f", resumed after epoch {entry['resumed_after_epoch']}" if entry.get("resumed_after_epoch") else ""
    where = f"node {node['ip']} ({node['id'][:8]}), {entry['seconds']:.1f} s{resumed}"
    return f"{entry['name']}: {measured} accuracy {accuracy:.4f}, {where}"


def finished_runs(path: Path, runs: Sequence[Run]) -> dict[str, dict[str, Any]]:
    """The entries of the sweep.json at `path` (if any) that record one of `runs` (its whole identity), by name."""
    if not path.exists():
        return {}
    identities = [run.identity() for run in runs]
    try:
        entries = json.loads(path.read_text())["runs"]
        return {
            entry["name"]: entry for entry in entries if {key: entry.get(key) for key in identities[0]} in identities
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        message = f"{path}: not a sweep file ({error}); move it away or choose another output directory"
        raise SweepError(message) from None


# Summaries: the numbers of the README's and reports' tables.
def spread(values: Sequence[float]) -> dict[str, float]:
    """Mean, sample standard deviation (0 for one value), min and max."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"n": len(values), "mean": statistics.mean(values), "std": std, "min": min(values), "max": max(values)}


def mean_sd(summary: dict[str, float]) -> str:
    """A spread's mean and standard deviation as every table shows them: "99.35% ± 0.05%"."""
    return f"{summary['mean']:.2%} ± {summary['std']:.2%}"


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
        validated = all("val_accuracy" in result["history"] for result in results)
        rows.append(
            {
                "data": members[0]["data"],
                "config": shared_config(results[0], ("seed",)),
                "seeds": [result["config"]["seed"] for result in results],
                "test_accuracy": spread([result["test"]["accuracy"] for result in results]) if tested else None,
                "final_val_accuracy": (
                    spread([result["history"]["val_accuracy"][-1] for result in results]) if validated else None
                ),
                "seconds_per_epoch": statistics.median(statistics.median(r["seconds_per_epoch"]) for r in results),
            }
        )
    return rows


def shared_config(results: dict[str, Any], varied: tuple[str, ...]) -> dict[str, Any]:
    """The run's config, with the epochs and validation size it resolved, without the fields a comparison varies."""
    config = {**results["config"], **results.get("resolved", {})}
    return {key: value for key, value in config.items() if key not in varied}


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
        tested = f"**{mean_sd(test)}** | {test['min']:.2%} - {test['max']:.2%}" if test else ""
        validated = mean_sd(val) if val else "no validation set"
        group = ", ".join(f"{names[i]} {label[i]}" for i in varying) or "all runs"
        seeds, seconds = ", ".join(map(str, row["seeds"])), row["seconds_per_epoch"]
        lines.append(f"| {group} | {seeds} | {tested or 'not tested |'} | {validated} | {seconds:.1f} |")
    return "\n".join(lines)
