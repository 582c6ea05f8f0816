"""TVAE learning curves: log p(x), E_eq and the pixel equivariance error against epochs, each
trained run next to its own untrained control.

A run is a workdir trained by `experiments.main` on a TVAE config with `eval_every_epochs` > 0
(its config.json and metrics.jsonl, whose 'test/...' entries are the periodic evaluations on the
run's own test sequences). The untrained control is the same config and seed after zero steps,
evaluated on the same sequences with the same noise, in `<workdir>_untrained` (cached there).
Epoch 0 of a curve is that control; the control is also drawn as a flat line, since what
training adds at epoch e is the curve's distance from it.

Each run appends one record (kind 'tvae_curve') per state it was found in: rerunning the study
after more epochs adds a newer record for that run and the section reads the latest one.
"""

import json
import math
import os

import ml_collections
import numpy as np
from absl import logging

from learned_rules.common import records as records_io
from learned_rules.common import writers
from learned_rules.common.errors import ConfigError
from learned_rules.studies.base import Interrupted, Study

KIND = "tvae_curve"
METRICS = (  # (key in eval.json / 'test/<key>' in metrics.jsonl, name, higher is better)
  ("log_likelihood", "log p(x)", True),
  ("equivariance_error", "E_eq", False),
  ("pixel_equivariance_error", "pixel equivariance error", False),
)
UNTRAINED_SUFFIX = "_untrained"


def parse_runs(runs) -> list[tuple[str, str]]:
  """[(workdir name, row label)] from 'workdir|row label' strings."""
  parsed = []
  for item in runs:
    name, sep, row = str(item).partition("|")
    if not sep or not name.strip() or not row.strip():
      raise ConfigError(f"runs: {item!r} is not 'workdir|row label' (e.g. 'VAE_s0|VAE').")
    parsed.append((name.strip(), row.strip()))
  return parsed


def validate(config) -> None:
  parse_runs(config.runs)
  if not config.runs:
    raise ConfigError("runs: name at least one 'workdir|row label'.")


def read_curve(workdir: str) -> tuple[list, dict]:
  """(epochs, {metric: values}) of the periodic evaluations in the workdir's metrics.jsonl."""
  rows = writers.read_jsonl(os.path.join(workdir, "metrics.jsonl"))
  per_step = [r["train/epoch"] / r["step"] for r in rows if "train/epoch" in r and r["step"]]
  if not per_step:
    return [], {key: [] for key, _, _ in METRICS}
  epochs_per_step = per_step[-1]
  tests = {}
  for r in rows:  # a resumed run may repeat a step: the last entry wins
    if "test/log_likelihood" in r:
      tests[r["step"]] = r
  steps = sorted(tests)
  epochs = [round(s * epochs_per_step, 6) for s in steps]
  values = {
    key: [float(tests[s].get(f"test/{key}", math.nan)) for s in steps] for key, _, _ in METRICS
  }
  return epochs, values


def run_config(workdir: str):
  path = os.path.join(workdir, "config.json")
  if not os.path.exists(path):
    raise ConfigError(f"{path}: missing; train the run with experiments.main first.")
  with open(path) as f:
    return ml_collections.ConfigDict(json.load(f))


def untrained_eval(workdir: str, config) -> dict:
  """The run's config after zero steps, evaluated like the trained one (cached in its workdir)."""
  from learned_rules.tvae import train  # here: reading records never imports the model

  control = config.copy_and_resolve_references()
  control.num_epochs, control.max_steps, control.eval_every_epochs = 0, 0, 0
  control.data.time_shuffle = False
  target = workdir.rstrip("/") + UNTRAINED_SUFFIX
  digest = json.dumps(control.to_dict(), sort_keys=True)
  marker = os.path.join(target, "control_of.json")
  result_path = os.path.join(target, "eval.json")
  if os.path.exists(marker) and os.path.exists(result_path):
    with open(marker) as f:
      same = json.load(f).get("config") == digest
    if same:
      with open(result_path) as f:
        return json.load(f)
  logging.info("%s: evaluating the untrained control in %s", workdir, target)
  result = train.train_and_evaluate(control, target)
  if result.get("interrupted"):
    raise Interrupted(f"{target}: interrupted; rerun to evaluate it.")
  writers.write_json(marker, {"config": digest, "evaluated_at": result["evaluated_at"]})
  return result


def run(config) -> list:
  if not os.path.isdir(config.root):  # checked here, not in validate: a fresh clone has no runs
    raise ConfigError(
      f"root={config.root!r}: no such directory; train the runs there first "
      "(results/tvae_100_epochs/queue_*.sh) or point root at their parent directory."
    )
  found = []
  for name, row in parse_runs(config.runs):
    workdir = os.path.join(config.root, name)
    if not os.path.exists(os.path.join(workdir, "metrics.jsonl")):
      logging.warning("%s: no metrics.jsonl yet; skipped (train it first)", workdir)
      continue
    run_cfg = run_config(workdir)
    epochs, values = read_curve(workdir)
    if not epochs:
      logging.warning("%s: no periodic evaluation yet (eval_every_epochs > 0); skipped", workdir)
      continue
    final = None
    eval_path = os.path.join(workdir, "eval.json")
    if os.path.exists(eval_path):
      with open(eval_path) as f:
        final = json.load(f)
    untrained = untrained_eval(workdir, run_cfg)
    record = {
      "kind": KIND,
      "run": name,
      "row": row,
      "seed": int(run_cfg.seed),
      "variant": run_cfg.model.variant,
      "num_epochs": float(run_cfg.num_epochs),
      "finished": bool(final) and final.get("epochs") == float(run_cfg.num_epochs),
      "train_seconds": None if not final else final.get("train_seconds"),
      "eval_sequences": int(run_cfg.eval_size),
      "epochs": epochs,
      "trained": values,
      "untrained": {key: float(untrained[key]) for key, _, _ in METRICS},
      "chance_equivariance_error": untrained.get("equivariance_error_chance"),
      **records_io.provenance(config.machine),
    }
    latest = latest_by_run(records_io.read(config.records, KIND)).get(name)
    if latest and latest["epochs"] == epochs and latest["trained"] == values:
      logging.info("%s: already recorded at epoch %g", name, epochs[-1])
      found.append(latest)
      continue
    records_io.append(config.records, record)
    found.append(record)
  if not found:
    raise ConfigError(f"runs: none of them has a periodic evaluation in {config.root}.")
  return found


def latest_by_run(found: list) -> dict:
  latest = {}
  for record in found:
    latest[record["run"]] = record
  return latest


def value_at(record: dict, key: str, epoch: float):
  if epoch == 0:
    return record["untrained"][key]
  for e, v in zip(record["epochs"], record["trained"][key], strict=True):
    if abs(e - epoch) < 1e-6:
      return v
  return None


def cell(values: list, digits: int) -> str:
  """Median (min to max) of the seeds that reached this epoch; '[n of m]' when not all did."""
  asked = len(values)
  values = [v for v in values if v is not None and math.isfinite(v)]
  if not values:
    return "-"
  median = float(np.median(values))
  text = f"{median:,.{digits}f}"
  if len(values) > 1:
    text += f" ({min(values):,.{digits}f} to {max(values):,.{digits}f})"
  if len(values) < asked:
    text += f" [{len(values)} of {asked}]"
  return text


def beats_structure(record: dict, key: str, higher: bool):
  """The first evaluated epoch from which the trained run stays better than its control."""
  base = record["untrained"][key]
  first = None
  for e, v in zip(record["epochs"], record["trained"][key], strict=True):
    better = v > base if higher else v < base
    if better and first is None:
      first = e
    elif not better:
      first = None
  return first


def by_row(records: list) -> dict:
  rows = {}
  for record in records:
    rows.setdefault(record["row"], []).append(record)
  for group in rows.values():
    group.sort(key=lambda r: r["seed"])
  return rows


def plot(records: list, path: str) -> None:
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  rows = by_row(records)
  colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
  fig, axes = plt.subplots(1, len(METRICS), figsize=(4.6 * len(METRICS), 3.6))
  for (key, name, _), ax in zip(METRICS, axes, strict=True):
    for index, (row, group) in enumerate(rows.items()):
      colour = colours[index % len(colours)]
      for n, record in enumerate(group):
        label = f"{row} (seeds {', '.join(str(r['seed']) for r in group)})" if n == 0 else None
        ax.plot(
          [0, *record["epochs"]],
          [record["untrained"][key], *record["trained"][key]],
          color=colour,
          lw=1.2,
          marker=".",
          ms=3,
          label=label,
        )
        ax.axhline(record["untrained"][key], color=colour, lw=0.8, ls="--", alpha=0.7)
    ax.set_xlabel("epoch")
    ax.set_title(name)
    if key == "equivariance_error":
      ax.set_yscale("log")
    else:  # the axis fits the trained curves; a control far off it is written in the corner
      trained = [v for r in records for v in r["trained"][key] if math.isfinite(v)]
      lo, hi = min(trained), max(trained)
      margin = 0.15 * (hi - lo or 1.0)
      off = {
        row: group[0]["untrained"][key]
        for row, group in rows.items()
        if not lo - 3 * margin <= group[0]["untrained"][key] <= hi + 3 * margin
      }
      lo = min([lo, *[r["untrained"][key] for r in records if r["row"] not in off]])
      hi = max([hi, *[r["untrained"][key] for r in records if r["row"] not in off]])
      ax.set_ylim(lo - margin, hi + margin)
      if off:
        text = "untrained, off the axis:\n" + "\n".join(
          f"{row}: {v:,.4g}" for row, v in off.items()
        )
        ax.text(0.98, 0.5, text, transform=ax.transAxes, ha="right", va="center", fontsize=7)
  axes[0].legend(fontsize=7, loc="lower right")
  fig.suptitle("trained (solid) against the same model untrained (dashed)", fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def table(records: list, marks=(0, 10, 25, 50, 100)) -> list[str]:
  lines = []
  for key, name, higher in METRICS:
    digits = 4 if key == "pixel_equivariance_error" else 1
    lines += [
      f"**{name}** ({'higher' if higher else 'lower'} is better; median and range over seeds; "
      "epoch 0 is the untrained control):",
      "",
      "| row | seeds | "
      + " | ".join(f"epoch {m}" for m in marks)
      + " | trained beats untrained from |",
      "|---|---|" + "---:|" * len(marks) + "---|",
    ]
    for row, group in by_row(records).items():
      cells = [cell([value_at(r, key, m) for r in group], digits) for m in marks]
      firsts = [beats_structure(r, key, higher) for r in group]
      since = ", ".join("never" if f is None else f"epoch {f:g}" for f in firsts)
      seeds = ", ".join(str(r["seed"]) for r in group)
      lines.append(f"| {row} | {seeds} | " + " | ".join(cells) + f" | {since} |")
    lines.append("")
  return lines


def section(context) -> list[str]:
  found = list(latest_by_run(context.read("tvae_curves.jsonl", KIND)).values())
  if not found:
    return []
  plot(found, context.plot_path("tvae_curves.png"))
  unfinished = [
    f"{r['run']} (epoch {r['epochs'][-1]:g} of {r['num_epochs']:g})"
    for r in found
    if not r["finished"]
  ]
  machines = sorted({r["machine"] for r in found})
  lines = [
    "## Learning curves at the reference's budget",
    "",
    "Each MNIST run trained for 100 epochs (SGD 1e-4, momentum 0.9, batch 8, 8,000 training "
    "digits) and evaluated every 5 epochs on its own "
    f"{found[0]['eval_sequences']} test sequences; epoch 0 is the same config and seed after "
    "zero steps, on the same sequences with the same noise (`python -m experiments.study "
    "--config=configs/studies/tvae_curves.py`). 'Trained beats untrained from' is the first "
    "evaluated epoch after which every evaluation is better than the untrained control. "
    f"Machine: {'; '.join(machines)}.",
    "",
    f"![learning curves]({context.link('tvae_curves.png')})",
    "",
    *table(found),
  ]
  if unfinished:
    lines += [
      "Curves that end early (still training, or stopped): " + ", ".join(unfinished) + ".",
      "",
    ]
  return lines  # the report adds our reading (results/notes/tvae_curves.md) below


STUDY = Study(
  name="tvae_curves",
  run=run,
  section=section,
  validate=validate,
  document="RESULTS_TVAE.md",
  summary=lambda found, config: table(found),
)
