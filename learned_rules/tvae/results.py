"""The TVAE comparison behind RESULTS_TVAE.md: train each row's model, then one markdown report.

`experiments/tvae_results.py` is its command-line entry point; from a notebook,
`rows = run_all(Options(...))` and `markdown(rows, Options(...))`.
"""

import dataclasses
import importlib
import json
import math
import os
import platform
import shutil

import jax
from absl import logging

from learned_rules.tvae import train


@dataclasses.dataclass(frozen=True)
class Options:
  root: str = "runs/tvae_results"  # where each model's workdir goes
  data_dir: str = "data/mnist"  # MNIST IDX files
  dataset: str = "mnist"  # digit dataset of the MNIST rows
  max_steps: int = 1500  # training steps per MNIST model
  dsprites_steps: int = 1000  # training steps per dSprites model
  train_size: int = 0  # training base images (0 = all)
  eval_size: int = 500  # test sequences per model
  optimizer: str = "adam"  # sgd (the spec's) or adam
  learning_rate: float = 1e-3
  only: tuple = ()  # run only these rows; others are reused
  reuse: bool = False  # only rebuild the table from existing eval.json files
  resume: bool = False  # continue from each row's checkpoints instead of restarting


MNIST_ROWS = [  # (label, module in configs/tvae/)
  ("VAE", "mnist_vae"),
  ("BubbleVAE", "mnist_bubble"),
  ("TVAE L=0", "mnist_l0"),
  ("TVAE L=13/36", "mnist"),
]
DSPRITES_ROWS = [
  ("VAE (dSprites)", "dsprites", {"model.variant": "vae"}),
  ("TVAE L=10/30 (dSprites)", "dsprites", {}),
]


def load_config(name):
  """get_config() of configs/tvae/<name>.py."""
  return importlib.import_module(f"configs.tvae.{name}").get_config()


def set_field(config, dotted, value):
  *path, leaf = dotted.split(".")
  for part in path:
    config = config[part]
  config[leaf] = value


def run(label, config_name, changes, steps, options: Options):
  """Trains one row (unless reused) and returns its eval.json, or None if it has none."""
  safe = "".join(c if c.isalnum() else "_" for c in label).strip("_")
  workdir = os.path.join(options.root, safe)
  eval_path = os.path.join(workdir, "eval.json")
  skip = options.reuse or (options.only and label not in options.only)
  if not skip:
    config = load_config(config_name)
    base = {
      "optimizer": options.optimizer,
      "learning_rate": options.learning_rate,
      "max_steps": steps,
      "eval_size": options.eval_size,
      "eval_every_epochs": 0,
      "log_every": 250,
      "data.train_size": options.train_size,
    }
    for key, value in {**base, **changes}.items():
      set_field(config, key, value)
    logging.info("training %s in %s", label, workdir)
    if not options.resume:  # a fresh run: the workdir's checkpoints would otherwise be resumed
      shutil.rmtree(os.path.join(workdir, "checkpoints"), ignore_errors=True)
      if os.path.exists(os.path.join(workdir, "metrics.jsonl")):
        os.remove(os.path.join(workdir, "metrics.jsonl"))
    result = train.train_and_evaluate(config, workdir)
    if result.get("interrupted"):
      raise SystemExit(f"{label}: interrupted at step {result['step']}; rerun with --resume.")
  if not os.path.exists(eval_path):
    return None
  with open(eval_path) as f:
    return json.load(f)


def fmt(value, digits=1):
  if value is None:
    return "–"
  if value != value:  # NaN: the estimated rolls were constant, Pearson is undefined
    return "undef."
  return f"{value:,.{digits}f}"


def run_all(options: Options) -> tuple[list, list]:
  """(mnist rows, dsprites rows): (label, eval.json or None) per row."""
  digit_changes = {"data.dataset": options.dataset, "data.data_dir": options.data_dir}
  mnist = [
    (label, run(label, name, digit_changes, options.max_steps, options))
    for label, name in MNIST_ROWS
  ]
  dsprites = [
    (label, run(label, name, changes, options.dsprites_steps, options))
    for label, name, changes in DSPRITES_ROWS
  ]
  return mnist, dsprites


def markdown(mnist: list, dsprites: list, options: Options) -> str:
  """RESULTS_TVAE.md's text from the rows of `run_all`."""
  total_minutes = sum(r["train_seconds"] for _, r in mnist + dsprites if r) / 60
  cpu = f"{os.cpu_count()}-core CPU ({platform.machine()}), jax {jax.__version__}"
  lines = ["## Topographic VAE (spec: ../shared/spec/tvae.md)", ""]
  first = next((r for _, r in mnist if r), None)
  if first:
    lines += [
      f"MNIST transformation sequences (S = 18, 18 capsules x 18), dataset `{first['dataset']}`: "
      f"{first['train_items']} training digits, {first['steps']} steps of batch 8 "
      f"({first['epochs']:.2f} epochs), {options.optimizer} lr {options.learning_rate:g}; "
      f"evaluated on {first['eval_sequences']} test sequences (one per held-out digit, fixed "
      f"seed) with N = {first['is_samples']} importance samples. Log-likelihood in nats per frame "
      "including the `- log N` term (the public code's numbers would be 2.30 nats higher).",
      "",
      "| model | log p(x) (nats/frame) | same, reference's convention (no - log N) | -ELBO | "
      "E_eq | E_eq chance | seconds (train + eval) |",
      "|---|---|---|---|---|---|---|",
    ]
    for label, r in mnist:
      if r is None:
        lines.append(f"| {label} | not run | | | | | |")
        continue
      lines.append(
        f"| {label} | {fmt(r['log_likelihood'])} | "
        f"{fmt(r['log_likelihood'] + math.log(r['is_samples']))} | {fmt(r['neg_elbo'])} | "
        f"{fmt(r.get('equivariance_error'), 0)} | {fmt(r.get('equivariance_error_chance'), 0)} | "
        f"{r['train_seconds']:.0f} |"
      )
    lines.append("")
  first = next((r for _, r in dsprites if r), None)
  if first:
    lines += [
      f"dSprites-like sequences (procedural renderer on the spec's factor grid, S = 15, 15 "
      f"capsules x 15): {first['steps']} steps of batch 8, {options.optimizer} lr "
      f"{options.learning_rate:g}; CapCorr on {first['eval_sequences']} test sequences "
      "(undef.: the estimated roll was the same for every frame, so the Pearson correlation is "
      "undefined).",
      "",
      "| model | CapCorr x | CapCorr y | CapCorr orientation | CapCorr scale | E_eq | log p(x) |",
      "|---|---|---|---|---|---|---|",
    ]
    for label, r in dsprites:
      if r is None:
        lines.append(f"| {label} | not run | | | | | |")
        continue
      caps = " | ".join(fmt(r.get(f"capcorr_{k}"), 2) for k in ("x", "y", "orientation", "scale"))
      lines.append(
        f"| {label} | {caps} | {fmt(r.get('equivariance_error'), 0)} | {fmt(r['log_likelihood'])} |"
      )
    lines.append("")
  lines += [
    f"Machine: {cpu}, shared with other jobs. Command: `python -m experiments.tvae_results "
    f"--max_steps={options.max_steps} --dsprites_steps={options.dsprites_steps} "
    f"--eval_size={options.eval_size} --optimizer={options.optimizer} "
    f"--learning_rate={options.learning_rate:g}` ({total_minutes:.0f} min of training and "
    "evaluation in all). This is a tiny fraction of the spec's 100 epochs of SGD: the numbers "
    "show the trend on a CPU budget, not the paper's values.",
    "",
  ]
  return "\n".join(lines)
