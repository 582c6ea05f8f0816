r"""Trains and evaluates the compared TVAE models on a small CPU budget; writes RESULTS_TVAE.md.

  python -m experiments.make_mnist --out_dir=data/mnist   # once
  python -m experiments.tvae_results --max_steps=1500 --eval_size=500

MNIST sequences: VAE, BubbleVAE, TVAE L=0 and TVAE L=13/36 (log-likelihood, E_eq); dSprites-like
procedural sequences: TVAE L=10/30 and a VAE (CapCorr). Every model gets the same number of steps;
`--reuse` rebuilds the table from existing eval.json files without training; `--resume` continues
rows whose runs were stopped (otherwise every trained row starts from scratch).
"""

import importlib
import json
import os
import platform
import shutil

import jax
from absl import app, flags, logging

from learned_rules.tvae import train

FLAGS = flags.FLAGS
flags.DEFINE_string("root", "runs/tvae_results", "Where each model's workdir goes.")
flags.DEFINE_string("out", "RESULTS_TVAE.md", "The markdown file written.")
flags.DEFINE_string("data_dir", "data/mnist", "MNIST IDX files (see experiments.make_mnist).")
flags.DEFINE_string("dataset", "mnist", "Digit dataset for the MNIST rows (mnist | synthetic).")
flags.DEFINE_integer("max_steps", 1500, "Training steps per MNIST model (batch 8 sequences).")
flags.DEFINE_integer("dsprites_steps", 1000, "Training steps per dSprites model.")
flags.DEFINE_integer("train_size", 0, "Training base images (0 = all).")
flags.DEFINE_integer("eval_size", 500, "Test sequences per model.")
flags.DEFINE_string("optimizer", "adam", "sgd (the spec's) or adam (faster on a short budget).")
flags.DEFINE_float("learning_rate", 1e-3, "Learning rate.")
flags.DEFINE_list("only", [], "Run only these rows (names below); others are reused.")
flags.DEFINE_bool("reuse", False, "Only rebuild the table from existing eval.json files.")
flags.DEFINE_bool("resume", False, "Continue from each row's checkpoints instead of restarting.")

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


def run(label, config_name, changes, steps):
  safe = "".join(c if c.isalnum() else "_" for c in label).strip("_")
  workdir = os.path.join(FLAGS.root, safe)
  eval_path = os.path.join(workdir, "eval.json")
  skip = FLAGS.reuse or (FLAGS.only and label not in FLAGS.only)
  if not skip:
    config = load_config(config_name)
    base = {
      "optimizer": FLAGS.optimizer,
      "learning_rate": FLAGS.learning_rate,
      "max_steps": steps,
      "eval_size": FLAGS.eval_size,
      "eval_every_epochs": 0,
      "log_every": 250,
      "data.train_size": FLAGS.train_size,
    }
    for key, value in {**base, **changes}.items():
      set_field(config, key, value)
    logging.info("training %s in %s", label, workdir)
    if not FLAGS.resume:  # a fresh run: the workdir's checkpoints would otherwise be resumed
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


def main(argv):
  del argv
  digit_changes = {"data.dataset": FLAGS.dataset, "data.data_dir": FLAGS.data_dir}
  mnist = [(label, run(label, name, digit_changes, FLAGS.max_steps)) for label, name in MNIST_ROWS]
  dsprites = [
    (label, run(label, name, changes, FLAGS.dsprites_steps))
    for label, name, changes in DSPRITES_ROWS
  ]
  total_minutes = sum(r["train_seconds"] for _, r in mnist + dsprites if r) / 60
  cpu = f"{os.cpu_count()}-core CPU ({platform.machine()}), jax {jax.__version__}"
  lines = ["## Topographic VAE (spec: ../shared/spec/tvae.md)", ""]
  first = next((r for _, r in mnist if r), None)
  if first:
    lines += [
      f"MNIST transformation sequences (S = 18, 18 capsules x 18), dataset `{first['dataset']}`: "
      f"{first['train_items']} training digits, {first['steps']} steps of batch 8 "
      f"({first['epochs']:.2f} epochs), {FLAGS.optimizer} lr {FLAGS.learning_rate:g}; "
      f"evaluated on {first['eval_sequences']} test sequences (one per held-out digit, fixed "
      f"seed) with N = {first['is_samples']} importance samples. Log-likelihood in nats per frame "
      "including the `- log N` term (the public code's numbers would be 2.30 nats higher).",
      "",
      "| model | log p(x) (nats/frame) | -ELBO | E_eq | E_eq chance | seconds (train + eval) |",
      "|---|---|---|---|---|---|",
    ]
    for label, r in mnist:
      if r is None:
        lines.append(f"| {label} | not run | | | | |")
        continue
      lines.append(
        f"| {label} | {fmt(r['log_likelihood'])} | {fmt(r['neg_elbo'])} | "
        f"{fmt(r.get('equivariance_error'), 0)} | {fmt(r.get('equivariance_error_chance'), 0)} | "
        f"{r['train_seconds']:.0f} |"
      )
    lines.append("")
  first = next((r for _, r in dsprites if r), None)
  if first:
    lines += [
      f"dSprites-like sequences (procedural renderer on the spec's factor grid, S = 15, 15 "
      f"capsules x 15): {first['steps']} steps of batch 8, {FLAGS.optimizer} lr "
      f"{FLAGS.learning_rate:g}; CapCorr on {first['eval_sequences']} test sequences (undef.: the "
      "estimated roll was the same for every frame, so the Pearson correlation is undefined).",
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
    f"--max_steps={FLAGS.max_steps} --dsprites_steps={FLAGS.dsprites_steps} "
    f"--eval_size={FLAGS.eval_size} --optimizer={FLAGS.optimizer} "
    f"--learning_rate={FLAGS.learning_rate:g}` ({total_minutes:.0f} min of training and "
    "evaluation in all). This is a tiny fraction of the spec's 100 epochs of SGD: the numbers "
    "show the trend on a CPU budget, not the paper's values.",
    "",
  ]
  with open(FLAGS.out, "w") as f:
    f.write("\n".join(lines))
  print("\n".join(lines))


if __name__ == "__main__":
  app.run(main)
