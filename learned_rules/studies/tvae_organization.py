"""TVAE topographic organization: which digit each latent unit prefers, and whether neighbouring
units agree, for each trained MNIST run next to the same model untrained.

A run is a workdir trained by `experiments.main` (or the tvae_table study) on an MNIST TVAE
config: its config.json and latest checkpoint, read only. On `num_images` test digits (a seeded
subset, the same for every run), each made into one sequence of the run's evaluation transforms,
every frame's sampled t is collected and, per latent unit (learned_rules/tvae/organization.py):

- the preferred digit and its d' selectivity against all other frames (the reference's statistic
  in `Plot_ClassActMap`), and whether d' >= 0.85 (the reference's threshold);
- the fraction of neighbouring units along the circular capsule dimension that prefer the same
  digit.

Controls, each on the same digits and noise: the same config and seed untrained (its initial
parameters: what the fixed W alone organizes), the units permuted at random (neighbour agreement
by chance), and the trained model with the digit labels permuted across sequences (d' by chance).
Each run appends one record (kind 'tvae_organization') per checkpoint it was found at; the
section and its figure are drawn from the records alone.
"""

import json
import os

import jax
import numpy as np
from absl import logging

from learned_rules.common import records as records_io
from learned_rules.common.errors import ConfigError
from learned_rules.studies import tvae_curves
from learned_rules.studies.base import Study
from learned_rules.tvae import data as data_lib
from learned_rules.tvae import organization as org

KIND = "tvae_organization"
STATS = (  # (summary key, column name, digits)
  ("mean_selectivity", "mean d'", 2),
  ("selective_fraction", "units with d' >= 0.85", 2),
  ("smoothness", "neighbours sharing a digit", 2),
)


def validate(config) -> None:
  tvae_curves.parse_runs(config.runs)
  if not config.runs:
    raise ConfigError("runs: name at least one 'workdir|row label'.")
  if config.num_images < org.N_CLASSES:
    raise ConfigError(f"num_images={config.num_images}: use at least {org.N_CLASSES} digits.")
  if config.batch_size < 1:
    raise ConfigError(f"batch_size={config.batch_size}: must be at least 1.")


def test_digits(config, num_images: int, seed: int):
  """(images, labels) of a seeded random subset of the run's MNIST test split."""
  if config.data.dataset not in ("mnist", "fashion_mnist"):
    raise ConfigError(
      f"data.dataset={config.data.dataset!r}: the organization study needs labelled digits "
      "(mnist or fashion_mnist IDX files, made by experiments.make_mnist)."
    )
  images = data_lib.load_digits(config.data.dataset, config.data.data_dir, "test")
  labels = org.load_labels(config.data.data_dir, "test")
  if len(labels) != len(images):
    raise ConfigError(f"{config.data.data_dir}: {len(images)} test images, {len(labels)} labels")
  # A random subset: the test files may be sorted by class (experiments.make_mnist).
  pick = np.random.default_rng(seed).permutation(len(images))[:num_images]
  return images[pick], labels[pick]


def compact(stats: dict) -> dict:
  """What a record keeps of class_map's statistics: per-unit lists and the summary."""
  return {
    "preferred": [int(c) for c in stats["preferred"]],
    "selectivity": [round(float(s), 4) for s in stats["selectivity"]],
    "reference_class": [int(c) for c in stats["reference_class"]],
    **org.summary(stats),
  }


def expand(part: dict, grid) -> dict:
  """A record's per-unit lists back as the arrays plot_panels and summary read."""
  return {
    "preferred": np.asarray(part["preferred"]),
    "selectivity": np.asarray(part["selectivity"]),
    "reference_class": np.asarray(part["reference_class"]),
    "grid": tuple(grid),
  }


def measure(workdir: str, num_images: int, seed: int, batch_size: int) -> dict:
  """Trained, untrained and label-shuffled statistics of one run's latest checkpoint."""
  run_cfg, model, params = org.restore_params(workdir)
  images, labels = test_digits(run_cfg, num_images, seed)
  make = org.sequence_maker(run_cfg)
  key = jax.random.PRNGKey(seed)
  trained = org.class_map(params, model, images, labels, key, make, batch_size)
  untrained = org.class_map(
    org.untrained_params(run_cfg, model), model, images, labels, key, make, batch_size
  )
  permuted = np.random.default_rng(seed + 1).permutation(labels)
  shuffled = org.class_map(params, model, images, permuted, key, make, batch_size)
  return {
    "config": run_cfg,
    "grid": list(trained["grid"]),
    "class_counts": [int(c) for c in np.bincount(labels, minlength=org.N_CLASSES)],
    "trained": compact(trained),
    "untrained": compact(untrained),
    "labels_shuffled": org.summary(shuffled),
  }


def checkpoint_step(workdir: str):
  from learned_rules.common import checkpointing

  checkpointer = checkpointing.Checkpointer(os.path.join(workdir, "checkpoints"), create=False)
  try:
    return checkpointer.latest_step()
  finally:
    checkpointer.close()


def run(config) -> list:
  if not os.path.isdir(config.root):  # checked here, not in validate: a fresh clone has no runs
    raise ConfigError(f"root={config.root!r}: no such directory; train the runs there first.")
  latest = latest_by_run(records_io.read(config.records, KIND))
  found = []
  for name, row in tvae_curves.parse_runs(config.runs):
    workdir = os.path.join(config.root, name)
    if not os.path.isdir(os.path.join(workdir, "checkpoints")):
      logging.warning("%s: no checkpoints yet; skipped (train it first)", workdir)
      continue
    step = checkpoint_step(workdir)
    if step is None:
      logging.warning("%s: no checkpoint yet; skipped", workdir)
      continue
    old = latest.get(name)
    same = ("step", "num_images", "eval_seed")
    if old and [old[k] for k in same] == [step, config.num_images, config.seed]:
      logging.info("%s: already recorded at step %d", name, step)
      found.append(old)
      continue
    logging.info("%s: measuring the checkpoint at step %d", name, step)
    result = measure(workdir, config.num_images, config.seed, config.batch_size)
    run_cfg = result.pop("config")
    eval_path = os.path.join(workdir, "eval.json")
    epochs = None
    if os.path.exists(eval_path):
      with open(eval_path) as f:
        epochs = json.load(f).get("epochs")
    record = {
      "kind": KIND,
      "run": name,
      "row": row,
      "seed": int(run_cfg.seed),
      "variant": run_cfg.model.variant,
      "step": int(step),
      "epochs": epochs,
      "num_images": int(config.num_images),
      "eval_seed": int(config.seed),
      **result,
      **records_io.provenance(config.machine),
    }
    records_io.append(config.records, record)
    found.append(record)
  if not found:
    raise ConfigError(f"runs: none of them has a checkpoint in {config.root}.")
  return found


latest_by_run = tvae_curves.latest_by_run  # {run: its latest record}
by_row = tvae_curves.by_row  # {row: its records by seed}


def table(records: list) -> list[str]:
  """Row x (trained, untrained) of the summary statistics, median and range over seeds."""
  names = [name for _, name, _ in STATS]
  lines = [
    "| row | seeds | epochs | model | "
    + " | ".join(names)
    + " | units permuted | labels permuted |",
    "|---|---|---|---|" + "---:|" * len(names) + "---:|---:|",
  ]
  for row, group in by_row(records).items():
    seeds = ", ".join(str(r["seed"]) for r in group)
    epochs = ", ".join("-" if r["epochs"] is None else f"{r['epochs']:g}" for r in group)
    for part in ("trained", "untrained"):
      cells = [tvae_curves.cell([r[part][key] for r in group], d) for key, _, d in STATS]
      permuted = tvae_curves.cell([r[part]["shuffled_smoothness"] for r in group], 2)
      if part == "trained":
        labels = tvae_curves.cell([r["labels_shuffled"]["mean_selectivity"] for r in group], 2)
        head = f"| {row} | {seeds} | {epochs} | trained |"
      else:
        labels = "-"
        head = "| | | | untrained |"
      lines.append(f"{head} " + " | ".join(cells) + f" | {permuted} | {labels} |")
  return lines


def plot(records: list, path: str) -> None:
  """One panel per run and model (trained, untrained), seed 0 of each row (or its lowest seed)."""
  panels = []
  for row, group in by_row(records).items():
    record = group[0]
    for part in ("trained", "untrained"):
      epochs = "" if record["epochs"] is None else f", {record['epochs']:g} ep"
      title = f"{row} (seed {record['seed']}{epochs}) {part}"
      panels.append((title, expand(record[part], record["grid"])))
  org.plot_panels(panels, path, columns=2)


def section(context) -> list[str]:
  found = list(latest_by_run(context.read("tvae_organization.jsonl", KIND)).values())
  if not found:
    return []
  plot(found, context.plot_path("tvae_organization.png"))
  machines = sorted({r["machine"] for r in found})
  first = found[0]
  return [
    "## Topographic organization by digit",
    "",
    f"Each run's latest checkpoint on {first['num_images']:,} test digits (a seeded subset, "
    f"class counts {first['class_counts']}), one sequence of its evaluation transforms each, "
    "every frame's sampled t (`python -m experiments.study "
    "--config=configs/studies/tvae_organization.py`). Per latent unit: the digit it prefers "
    "(largest class mean) and d' = (mean of that digit - mean of the others) / pooled sd, the "
    "reference's selectivity statistic; 'units with d' >= 0.85' uses the reference's threshold "
    "(our choice: a unit's class is the one with the largest d'). 'Neighbours sharing a digit' "
    "is the fraction of units whose circular neighbour along the capsule dimension prefers the "
    "same digit; 'units permuted' is that fraction after shuffling the units (chance for that "
    "map), 'labels permuted' the trained model's mean d' with the digits' labels shuffled across "
    "sequences (chance selectivity). Untrained: the same config and seed at its initial "
    f"parameters, on the same digits and noise. Machine: {'; '.join(machines)}.",
    "",
    "The figure: rows are capsules, columns the capsule dimension that W pools along; a unit's "
    "colour is its preferred digit, its opacity d' / 2 (white: not selective).",
    "",
    f"![organization by digit]({context.link('tvae_organization.png')})",
    "",
    *table(found),
    "",
  ]


STUDY = Study(
  name="tvae_organization",
  run=run,
  section=section,
  validate=validate,
  document="RESULTS_TVAE.md",
  summary=lambda found, config: table(found),
)
