"""Markdown for README, generated from results files so no number is ever typed by hand."""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

from lenet.config import VARIANTS
from lenet import sweep
from lenet.sweep import mean_sd

# LeCun et al. (1998), Section III (Fig. 9): LeNet-5's test error without and with distorted training digits.
PAPER_1998_TEST_ERROR = {False: 0.0095, True: 0.008}
PAPER_TEST_ACCURACY = 1 - PAPER_1998_TEST_ERROR[False]
# The notebook this project replaced, measured on this machine (it validated on the test set).
ORIGINAL_NOTEBOOK_TEST_ACCURACY = 0.9893


def run_rows(results: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, value) rows that describe one run's results.json, for any dataset."""
    history, test, data, config = results["history"], results["test"], results["data"], results["config"]
    sizes = data["sizes"]
    seconds = results["seconds_per_epoch"]
    epochs = results.get("resolved", config)["epochs"]  # older results.json files: the config's own
    validation = f"{history['val_accuracy'][-1]:.2%}" if "val_accuracy" in history else "no validation set"
    return [
        (
            "Test accuracy",
            f"**{test['accuracy']:.2%}** ({round(test['accuracy'] * sizes['test']):,} of {sizes['test']:,})",
        ),
        ("Test loss", f"{test['loss']:.4f}"),
        ("Final validation accuracy", validation),
        ("Final training accuracy", f"{history['accuracy'][-1]:.2%}"),
        ("Epochs, batch size, seed", f"{epochs}, {config['batch_size']}, {config['seed']}"),
        ("Recipe", recipe_label(results)),
        ("Train / validation / test images", f"{sizes['train']:,} / {sizes['validation']:,} / {sizes['test']:,}"),
        ("Data fingerprint (sha256)", f"`{data['fingerprint'][:16]}…`"),
        ("Seconds per epoch (median)", f"{statistics.median(seconds):.1f}"),
    ]


def recipe_label(results: dict[str, Any]) -> str:
    """E.g. '`shift`: cosine from 0.001 to 0; shifts ≤2 px'; runs from before recipes had
    one: the constant learning rate."""
    recipe = results.get("recipe")
    if recipe is None:
        return f"`original`: constant {results['config']['learning_rate']:g}; no augmentation"
    return f"`{recipe['name']}`: {recipe_description(recipe)}"


def table(rows: list[tuple[str, str]]) -> str:
    return "\n".join(["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)])


def results_markdown(results: dict[str, Any], paper: dict[str, Any] | None = None) -> str:
    """The results table README shows for a results.json of MNIST, with the references and, given
    scripts/paper_1998.py's report, the 1998 network trained as the paper did, here."""
    rows = [*run_rows(results), ("LeCun et al. (1998), LeNet-5", f"{PAPER_TEST_ACCURACY:.2%}")]
    if paper is not None and (plain := [run for run in paper["runs"] if not run["distortions"]]):
        accuracies = [1 - run["test_error"] for run in plain]
        seeds = f"seed {plain[0]['seed']}" if len(plain) == 1 else f"mean of {len(plain)} seeds"
        rows.append(
            (
                "The same network trained as the paper did (SDLM), here ([docs/paper.md](docs/paper.md))",
                f"{statistics.mean(accuracies):.2%} ({seeds})",
            )
        )
    rows.append(("The original notebook (validated on the test set)", f"{ORIGINAL_NOTEBOOK_TEST_ACCURACY:.2%}"))
    return table(rows)


def dataset_markdown(results: dict[str, Any]) -> str:
    """The table README shows for a run on another dataset (e.g. Fashion-MNIST)."""
    return table(run_rows(results))


def spread_markdown(spread: dict[str, Any]) -> str:
    """The seed-spread table README shows for scripts/seed_spread.py's JSON."""
    lines = ["| seed | test accuracy | test loss | seconds per epoch (median) |", "|---|---|---|---|"]
    for run in spread["runs"]:
        lines.append(
            f"| {run['seed']} | {run['test_accuracy']:.2%} | {run['test_loss']:.4f} | {run['seconds_per_epoch']:.1f} |"
        )
    summary = spread["summary"]
    lines.append(f"| **mean ± sd** | **{mean_sd(summary)}** | | |")
    return "\n".join(lines)


def replace_section(text: str, name: str, body: str) -> str:
    """Replace what stands between <!-- NAME:start --> and <!-- NAME:end --> in text."""
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(\n<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise ValueError(f"no <!-- {name}:start --> ... <!-- {name}:end --> section")
    return pattern.sub(lambda match: match.group(1) + body + match.group(2), text)


def section(text: str, name: str) -> str:
    """What stands between the markers of section NAME."""
    match = re.search(rf"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", text, re.S)
    if match is None:
        raise ValueError(f"no <!-- {name}:start --> ... <!-- {name}:end --> section")
    return match.group(1)


def update_readme(readme: Path, sections: dict[str, str]) -> None:
    text = readme.read_text()
    for name, body in sections.items():
        text = replace_section(text, name, body)
    readme.write_text(text)


# Variants a committed report may still hold, no longer in lenet.config.VARIANTS.
RETIRED_VARIANTS = {"classic": "tanh, average pooling (retired: lenet5-1998 replaced it)"}


def variants_markdown(comparison: dict[str, Any]) -> str:
    """The variant table README shows for scripts/compare_variants.py's JSON."""
    descriptions = {**RETIRED_VARIANTS, **VARIANTS}
    lines = [
        "| variant | activation, pooling | test accuracy, mean ± sd | min - max | runs | seconds per epoch (median) |",
        "|---|---|---|---|---|---|",
    ]
    for variant, result in comparison["variants"].items():
        summary = result["summary"]
        seeds = ", ".join(str(run["seed"]) for run in result["runs"])
        lines.append(
            f"| {variant} | {descriptions.get(variant, '')} | **{mean_sd(summary)}** "
            f"| {summary['min']:.2%} - {summary['max']:.2%} | {summary['n']} (seeds {seeds}) "
            f"| {result['seconds_per_epoch']:.1f} |"
        )
    return "\n".join(lines)


def recipe_description(recipe: dict[str, Any]) -> str:
    """E.g. 'cosine from 0.002, 1 warm-up epoch; shifts ≤2 px, rotations ≤10°, scaling ±10%, squeezing ±10%,
    shearing ±0.2'."""
    if recipe["schedule"] == "constant":
        parts = [f"constant {recipe['learning_rate']:g}"]
    elif recipe["schedule"] == "1998":  # an SDLM recipe: the paper's eta by passes (lenet/sdlm.py)
        parts = [f"SDLM, eta from {recipe['learning_rate']:g} stepped down by passes as in 1998"]
    else:
        parts = [f"cosine from {recipe['learning_rate']:g} to 0"]
        if recipe["warmup_epochs"]:
            parts[0] += f" after {recipe['warmup_epochs']:g} warm-up epoch(s)"
    distortions = []
    if recipe["shift"]:
        distortions.append(f"shifts ≤{recipe['shift']:g} px")
    if recipe["rotation"]:
        distortions.append(f"rotations ≤{recipe['rotation']:g}°")
    if recipe["zoom"]:
        distortions.append(f"scaling ±{recipe['zoom']:.0%}")
    if recipe.get("squeeze"):  # recipes recorded before squeeze and shear existed lack them
        distortions.append(f"squeezing ±{recipe['squeeze']:.0%}")
    if recipe.get("shear"):
        distortions.append(f"shearing ±{recipe['shear']:g}")
    return "; ".join([*parts, ", ".join(distortions) or "no augmentation"])


def study_markdown(study: dict[str, Any]) -> str:
    """The recipe-study table README shows for scripts/recipe_study.py's JSON (validation only)."""
    seeds = ", ".join(str(seed) for seed in study["candidates"][study["chosen"]]["seeds"])
    lines = [
        f"| rank | recipe | learning rate; augmentation | validation accuracy, mean ± sd (seeds {seeds}) "
        "| validation loss, mean |",
        "|---|---|---|---|---|",
    ]
    for rank, name in enumerate(study["ranking"], 1):
        candidate = study["candidates"][name]
        label = f"**{name}** (chosen)" if name == study["chosen"] else name
        lines.append(
            f"| {rank} | {label} | {recipe_description(candidate['recipe'])} "
            f"| {mean_sd({'mean': candidate['mean_val_accuracy'], 'std': candidate['std_val_accuracy']})} "
            f"| {candidate['mean_val_loss']:.4f} |"
        )
    return "\n".join(lines)


# Published references for the test-accuracy comparison (error rates from the papers and pages).
REFERENCES = (
    ("LeCun et al. (1998), LeNet-5", "0.95% test error", PAPER_TEST_ACCURACY),
    ("LeCun et al. (1998), LeNet-5 with distorted training digits", "0.8% test error", 1 - PAPER_1998_TEST_ERROR[True]),
)


def recipes_markdown(spreads: list[dict[str, Any]]) -> str:
    """Test accuracy of each recipe's seed spread (scripts/seed_spread.py), with references."""
    lines = [
        "| recipe | test accuracy, mean ± sd | min - max | seed 42 (the default) | seeds |",
        "|---|---|---|---|---|",
    ]
    for spread in spreads:
        runs, summary = spread["runs"], spread["summary"]
        name = spread["config"].get("recipe", "original")
        default = next((run["test_accuracy"] for run in runs if run["seed"] == 42), None)
        lines.append(
            f"| `{name}` | **{mean_sd(summary)}** | {summary['min']:.2%} - {summary['max']:.2%} "
            f"| {'' if default is None else f'{default:.2%}'} | {', '.join(str(run['seed']) for run in runs)} |"
        )
    lines.append(f"| the original notebook (validated on the test set) | {ORIGINAL_NOTEBOOK_TEST_ACCURACY:.2%} | | | |")
    for name, quoted, accuracy in REFERENCES:
        lines.append(f"| {name} | {accuracy:.2%} ({quoted}) | | | |")
    return "\n".join(lines)


def run_summary(results: dict[str, Any]) -> dict[str, Any]:
    """The numbers a comparison table needs from one run's results.json."""
    return {
        "seed": results["config"]["seed"],
        "test_accuracy": results["test"]["accuracy"],
        "test_loss": results["test"]["loss"],
        "seconds_per_epoch": statistics.median(results["seconds_per_epoch"]),
        "val_accuracy": results["history"].get("val_accuracy"),  # None: no validation set
    }


def paper_markdown(report: dict[str, Any]) -> str:
    """The paper's table beside ours for scripts/paper_1998.py's JSON: mean ± sd of the last pass's test error over
    seeds, and every seed's."""
    lines = ["| test error | the paper | here, mean ± sd | runs (seed: test error) |", "|---|---|---|---|"]
    for distortions, label in ((False, "LeNet-5"), (True, "LeNet-5, distorted training digits")):
        runs = sorted((run for run in report["runs"] if run["distortions"] is distortions), key=lambda run: run["seed"])
        paper = f"{PAPER_1998_TEST_ERROR[distortions]:.2%}".replace("0.80%", "0.8%")
        if not runs:
            lines.append(f"| {label} | {paper} | not yet run | |")
            continue
        errors = [run["test_error"] for run in runs]
        here = f"**{mean_sd(sweep.spread(errors))}**"
        listed = ", ".join(f"{run['seed']}: {run['test_error']:.2%}" for run in runs)
        lines.append(f"| {label} | {paper} | {here} | {len(runs)} ({listed}) |")
    return "\n".join(lines)


def ablation_markdown(report: dict[str, Any], rows: list[tuple[str, str]]) -> str:
    """scripts/ablation_1998.py's report as docs/paper.md shows it: every planned row (name, change) in order, its
    measured test error (one run, the report's seed), or that it has not been run."""
    measured = {row["row"]: row for row in report["rows"]}
    lines = ["| row | the change | test error | runs |", "|---|---|---|---|"]
    for name, change in rows:
        row = measured.get(name)
        error, runs = (
            ("not yet run", "") if row is None else (f"**{row['test_error']:.2%}**", f"1 (seed {row['seed']})")
        )
        lines.append(f"| {name} | {change} | {error} | {runs} |")
    return "\n".join(lines)
