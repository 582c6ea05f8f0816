r"""Remembering becomes learning: accuracy on unseen keys of a random teacher against K.

  python -m experiments.study --config=configs/studies/teacher_curves.py

For each network (fully connected: the [x, y] layout, D = 16, 32 neurons; layered: 16 -> 32 -> 16
with y taught to the outputs) two learned rules are meta-trained by the one trainer
(`trainer.meta_train`, resumable, in `<root>/<network>/<rule>`):
- `learned_remember`: on remembering random pairs only (the remember task, hetero mode, the same
  layout and input channels as the teacher task on that network), never on generalization;
- `learned_teacher`: on teacher pairs (the teacher task, linear teacher).
Each is capped at `num_steps` meta-steps and `max_seconds` of training (compilation included).
Then every rule answers the same episodes of the teacher task (seed `report.EVAL_SEED_OFFSET`,
unseen keys) at each K of `eval_ks`: both learned rules; on the layered net `backprop` with one
pass and with ten passes over the K pairs (task.repetitions), each at every rate of
`backprop_rates` (the table and plot keep the best rate per K, chosen on these same episodes);
`delta` (fully connected) or `delta_features` (layered, frozen random hidden features); Hebbian;
the teacher itself (`oracle`, the ceiling) and the per-bit majority of the stored answers
(`floor`). The metric is target-bit accuracy: the fraction of answer bits right.

Records: one JSON line per (network, teacher, rule, K[, rate]) of kind 'teacher_curve' in
`records` (a point already there is skipped, so a rerun continues), and one of kind
'teacher_curve_train' per trained rule. `plot` draws accuracy against K, one panel per network
(and teacher); `markdown` is the table for RESULTS.md.
"""

import json
import os
import time

import flax.serialization
import jax
from absl import logging

from learned_rules import evaluation, experiment
from learned_rules.common import overrides
from learned_rules.common import records as records_io
from learned_rules.common.errors import ConfigError
from learned_rules.studies.base import Interrupted, Study
from learned_rules.train import params_io, report, saved_rules, trainer

CURVE, TRAIN = "teacher_curve", "teacher_curve_train"  # the records' kinds
NETWORKS = ("fully_connected", "layered")
TEACHERS = ("linear", "two_layer")
LEARNED = ("learned_remember", "learned_teacher")
REFERENCES = ("oracle", "floor")
# Rules in table and legend order; which of them run on which network.
RULE_ORDER = (
  "learned_remember",
  "learned_teacher",
  "backprop_1pass",
  "backprop_10pass",
  "delta",
  "delta_features",
  "hebbian",
  "oracle",
  "floor",
)
HANDWRITTEN = {
  "fully_connected": ("delta", "hebbian"),
  "layered": ("backprop_1pass", "backprop_10pass", "delta_features", "hebbian"),
}
PASSES = {"backprop_1pass": 1, "backprop_10pass": 10}
SUMMARY_FILE = "train_summary.json"  # next to the trainer's meta_params.msgpack


# --- configs -------------------------------------------------------------------------------------
def _apply(config, options, settings: dict):
  overrides.apply(config, settings.items(), "teacher_curves setting")
  return overrides.apply(config, options.overrides, "teacher_curves override")


def teacher_config(network: str, options, kind: str = "linear", k=None):
  """The teacher task on `network` (x -> y taught on the layered net; [x, y] fully connected)."""
  config = options.bases["teacher_layered" if network == "layered" else "teacher"]
  config = config.copy_and_resolve_references()
  k_min, k_max = options.teacher_k if k is None else (k, k)
  settings = {"task.teacher": kind, "task.k_min": k_min, "task.k_max": k_max}
  settings |= {"eval.baselines": ()}
  return _apply(config, options, settings)


def remember_config(network: str, options):
  """Remembering random pairs (hetero) in the layout and channels of the teacher task there."""
  if network == "layered":
    config = options.bases.remember_layered.copy_and_resolve_references()  # 16 -> 32 -> 16
    settings = {}
  else:
    config = options.bases.remember.copy_and_resolve_references()
    settings = {"task.mode": "hetero", "task.pattern_bits": options.bases.teacher.task.pattern_bits}
  settings |= {"task.k_min": options.remember_k[0], "task.k_max": options.remember_k[1]}
  settings |= {"task.loss_steps": "all", "eval.baselines": ()}  # as the committed curves ran
  return _apply(config, options, settings)


def training_config(network: str, rule: str, options):
  if rule == "learned_remember":
    config = remember_config(network, options)
  elif rule == "learned_teacher":
    config = teacher_config(network, options)
  else:
    raise ConfigError(f"learned rule {rule!r}: expected one of {LEARNED}.")
  with config.unlocked():
    config.rule.name = "learned"
    config.train.num_steps = options.num_steps
    config.train.max_seconds = float(options.max_seconds)
    config.train.batch_size = options.batch_size
    config.train.log_every = min(config.train.log_every, options.num_steps)
  return config


def parse_committed(options) -> list:
  """[(network, label, rule_dir)] from `options.committed`; ConfigError for a bad entry."""
  runs = []
  for entry in options.committed:
    network, sep, rest = entry.partition(":")
    label, sep2, path = rest.partition("=")
    if not (sep and sep2 and label and path) or network not in NETWORKS:
      raise ConfigError(
        f"committed rule {entry!r}: expected 'network:label=rule_dir' with network one of "
        f"{NETWORKS}."
      )
    if label in RULE_ORDER:
      raise ConfigError(f"committed rule {entry!r}: label {label!r} is taken by a built-in rule.")
    saved_rules.load(path, options.bases, f"committed rule {entry!r}")
    runs.append((network, label, path))
  return runs


def ordered_rules(present) -> list:
  """Built-in rules in RULE_ORDER, committed ones (any other label) after the learned two."""
  extras = sorted(set(present) - set(RULE_ORDER))
  head = [r for r in RULE_ORDER if r in LEARNED and r in present]
  return head + extras + [r for r in RULE_ORDER if r not in LEARNED and r in present]


# --- records -------------------------------------------------------------------------------------
def read_records(path: str) -> list:
  return records_io.read(path)


def point_key(record: dict) -> tuple:
  return (
    record["kind"],
    record["network"],
    record.get("teacher"),
    record["rule"],
    record.get("k"),
    record.get("learning_rate"),
  )


class Recorder:
  """Appends records (one JSON line each) and knows which points are done."""

  def __init__(self, options):
    self.path = options.records
    self.done = {point_key(r) for r in read_records(self.path)}
    self.common = records_io.provenance(options.machine)

  def has(self, **fields) -> bool:
    return point_key(fields) in self.done

  def write(self, record: dict) -> None:
    record = record | self.common
    records_io.append(self.path, record)
    self.done.add(point_key(record))


# --- training ------------------------------------------------------------------------------------
def train_learned(network: str, rule: str, options, recorder: Recorder):
  """(meta-parameters, training summary) of a learned rule: loaded if finished, else trained."""
  config = training_config(network, rule, options)
  workdir = os.path.join(options.root, network, rule)
  params_path = os.path.join(workdir, params_io.PARAMS_FILE)
  summary_path = os.path.join(workdir, SUMMARY_FILE)
  model = experiment.build(config).model("learned")
  if os.path.exists(params_path) and os.path.exists(summary_path):
    with open(params_path, "rb") as f:
      params = flax.serialization.from_bytes(
        model.init_params(jax.random.PRNGKey(config.seed)), f.read()
      )
    with open(summary_path) as f:
      summary = json.load(f)
  else:
    logging.info("teacher_curves: meta-training %s on %s in %s", rule, network, workdir)
    trainer.validate(config)
    result = trainer.meta_train(config, workdir)
    if result.interrupted:
      raise Interrupted(f"{network}/{rule}: stopped by {result.stopped} (checkpoint saved)")
    params = result.params
    last = result.history[-1] if result.history else {}
    summary = {
      "trained_on": config.task.name,
      "train_task": config.task.to_dict(),
      "steps": result.steps_done,
      "train_wall_s": result.wall_s,
      "stopped": result.stopped,
      "final_train_metrics": {k: v for k, v in last.items() if isinstance(v, int | float)},
    }
    with open(summary_path, "w") as f:
      json.dump(summary, f)
  if not recorder.has(kind=TRAIN, network=network, rule=rule):
    recorder.write(
      {
        "kind": TRAIN,
        "network": network,
        "rule": rule,
        "num_steps": config.train.num_steps,
        "max_seconds": config.train.max_seconds,
        "batch_size": config.train.batch_size,
        **{k: v for k, v in summary.items() if k != "train_task"},
        "k_range": [config.task.k_min, config.task.k_max],
      }
    )
  return params, summary


# --- evaluation ----------------------------------------------------------------------------------
def evaluate_rule(config, rule_name: str, params, options) -> tuple[dict, float]:
  """(metrics, seconds) of `rule_name` (or a reference) on the teacher task at config's K."""
  exp = experiment.build(config)
  task = exp.task
  common = dict(
    seed=report.EVAL_SEED_OFFSET,
    num_episodes=options.eval_episodes,
    batch_size=min(options.eval_batch_size, options.eval_episodes),
  )
  start = time.time()
  if rule_name in REFERENCES:
    metrics = evaluation.evaluate(None, None, task, reference=rule_name, **common)
  else:
    model = exp.model(rule_name)
    if params is None:
      params = model.init_params(jax.random.PRNGKey(0))
    metrics = evaluation.evaluate(model, params, task, **common)
  return metrics, time.time() - start


def rule_runs(network: str, options) -> list:
  """[(rule label, engine rule name, config overrides, learning rate or None)] to evaluate."""
  runs = []
  for label in HANDWRITTEN[network]:
    if label in PASSES:
      for rate in options.backprop_rates:
        settings = {"task.repetitions": PASSES[label], "rule.backprop_learning_rate": rate}
        runs.append((label, "backprop", settings, rate))
    else:
      runs.append((label, label, {}, None))
  return runs + [(name, name, {}, None) for name in REFERENCES]


def run(options) -> list:
  """Trains what is missing, evaluates every point not yet recorded; returns all records."""
  recorder = Recorder(options)
  committed = parse_committed(options)
  for network in options.networks:
    if network not in NETWORKS:
      raise ConfigError(f"network {network!r}: expected one of {NETWORKS}.")
    for kind in options.teachers:
      if kind not in TEACHERS:
        raise ConfigError(f"teacher {kind!r}: expected one of {TEACHERS}.")
    for rule in LEARNED:
      missing = [
        (kind, k)
        for kind in options.teachers
        for k in options.eval_ks
        if not recorder.has(kind=CURVE, network=network, teacher=kind, rule=rule, k=k)
      ]
      if not missing:
        continue
      params, summary = train_learned(network, rule, options, recorder)
      for kind, k in missing:
        config = teacher_config(network, options, kind, k)
        metrics, seconds = evaluate_rule(config, "learned", params, options)
        recorder.write(
          _curve(network, kind, rule, k, metrics, seconds, options)
          | {
            "trained_on": summary["trained_on"],
            "steps": summary["steps"],
            "train_wall_s": summary["train_wall_s"],
          }
        )
        _log(network, kind, rule, k, metrics)
    for _, label, rule_dir in [c for c in committed if c[0] == network]:
      for kind in options.teachers:
        for k in options.eval_ks:
          if recorder.has(kind=CURVE, network=network, teacher=kind, rule=label, k=k):
            continue
          config, params, saved = saved_rules.onto(
            teacher_config(network, options, kind, k), rule_dir, options.bases
          )
          metrics, seconds = evaluate_rule(config, "learned", params, options)
          recorder.write(
            _curve(network, kind, label, k, metrics, seconds, options)
            | {
              "rule_dir": rule_dir,
              "trained_on": saved.task.name,
              "steps": saved.train.num_steps,
            }
          )
          _log(network, kind, label, k, metrics)
    for label, rule_name, settings, rate in rule_runs(network, options):
      for kind in options.teachers:
        for k in options.eval_ks:
          fields = dict(kind=CURVE, network=network, teacher=kind, rule=label, k=k)
          if recorder.has(**fields, learning_rate=rate):
            continue
          config = teacher_config(network, options, kind, k)
          overrides.apply(config, settings.items(), "teacher_curves setting")
          metrics, seconds = evaluate_rule(config, rule_name, None, options)
          record = _curve(network, kind, label, k, metrics, seconds, options)
          if rate is not None:
            record |= {"learning_rate": rate, "passes": PASSES[label]}
          recorder.write(record)
          _log(network, kind, label + (f" lr={rate}" if rate else ""), k, metrics)
  return read_records(options.records)


def _curve(network, kind, rule, k, metrics, seconds, options) -> dict:
  return {
    "kind": CURVE,
    "network": network,
    "teacher": kind,
    "rule": rule,
    "k": k,
    "target_bit_accuracy": metrics["hidden_bit_accuracy"],
    "perfect_recall_fraction": metrics["perfect_recall_fraction"],
    "eval_episodes": options.eval_episodes,
    "eval_wall_s": seconds,
  }


def _log(network, kind, rule, k, metrics):
  logging.info(
    "teacher_curves %s %s %-18s K=%-3d target-bit accuracy %.4f",
    network,
    kind,
    rule,
    k,
    metrics["hidden_bit_accuracy"],
  )
  print(
    f"{network:<16} {kind:<9} {rule:<24} K={k:<3} {metrics['hidden_bit_accuracy']:.4f}",
    flush=True,
  )


# --- summaries -----------------------------------------------------------------------------------
def best_points(records: list) -> dict:
  """{(network, teacher, rule): {K: record}}, the best learning rate per K where several ran."""
  table = {}
  for record in records:
    if record.get("kind") != CURVE:
      continue
    key = (record["network"], record["teacher"], record["rule"])
    row = table.setdefault(key, {})
    old = row.get(record["k"])
    if old is None or record["target_bit_accuracy"] > old["target_bit_accuracy"]:
      row[record["k"]] = record
  return table


def _label(rule: str, curves: list, trains: dict, network: str) -> str:
  if rule in LEARNED:
    train = trains.get((network, rule))
    where = "random pairs" if rule == "learned_remember" else "teacher pairs"
    if train:
      where += f", {train['steps']} steps, {train['train_wall_s'] / 60:.0f} min"
    return f"{rule} (trained on {where})"
  dirs = sorted({r["rule_dir"] for r in curves if r["rule"] == rule and "rule_dir" in r})
  if dirs:
    return f"{rule} (saved rule `{', '.join(dirs)}`)"
  rates = sorted(
    {r["learning_rate"] for r in curves if r["network"] == network and r["rule"] == rule} - {None}
  )
  if rates:
    return f"{rule} (best of lr {', '.join(f'{r:g}' for r in rates)})"
  return rule


def markdown(records: list) -> str:
  """RESULTS.md section: target-bit accuracy on unseen keys, rule x K, per network and teacher."""
  table = best_points(records)
  trains = {(r["network"], r["rule"]): r for r in records if r.get("kind") == TRAIN}
  curves = [
    r | {"learning_rate": r.get("learning_rate")} for r in records if r.get("kind") == CURVE
  ]
  if not curves:
    return "No teacher-curve records yet.\n"
  ks = sorted({r["k"] for r in curves})
  lines = ["## Remembering becomes learning: accuracy on unseen keys of a random teacher", ""]
  for network in NETWORKS:
    for kind in TEACHERS:
      rules = ordered_rules({key[2] for key in table if key[:2] == (network, kind)})
      if not rules:
        continue
      lines += [f"**{network}, {kind} teacher** (target-bit accuracy on unseen keys)", ""]
      lines.append("| rule | " + " | ".join(f"K = {k}" for k in ks) + " |")
      lines.append("|---|" + "---:|" * len(ks))
      for rule in rules:
        points = table[(network, kind, rule)]
        cells = []
        for k in ks:
          p = points.get(k)
          if p is None:
            cells.append("-")
          elif "learning_rate" in p:
            cells.append(f"{p['target_bit_accuracy']:.3f} (lr {p['learning_rate']:g})")
          else:
            cells.append(f"{p['target_bit_accuracy']:.3f}")
        label = _label(rule, curves, trains, network)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
      lines.append("")
  eval_s = sum(r.get("eval_wall_s", 0.0) for r in curves)
  train_s = sum(r.get("train_wall_s", 0.0) for r in trains.values())
  episodes = sorted({r["eval_episodes"] for r in curves})
  commands = sorted({r["command"] for r in records if "command" in r})
  machines = sorted({r["machine"] for r in records if "machine" in r})
  lines += [
    f"{', '.join(map(str, episodes))} held-out episodes per point (the same episodes for every "
    "rule at a K), each asking unseen keys. backprop: best of the learning rates run, chosen "
    "per K on these same episodes (optimistic for it). Training "
    f"{train_s / 60:.1f} min, evaluation {eval_s / 60:.1f} min on {', '.join(machines)}.",
    "",
    "Command: " + "; ".join(f"`{c}`" for c in commands),
    "",
  ]
  return "\n".join(lines)


def plot(records: list, path: str) -> None:
  """Target-bit accuracy on unseen keys against K: one panel per network (rows: teachers)."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  table = best_points(records)
  kinds = [t for t in TEACHERS if any(key[1] == t for key in table)] or ["linear"]
  networks = [n for n in NETWORKS if any(key[0] == n for key in table)] or list(NETWORKS)
  fig, axes = plt.subplots(
    len(kinds), len(networks), figsize=(5.5 * len(networks), 4 * len(kinds)), squeeze=False
  )
  styles = {"oracle": ("k", "--"), "floor": ("grey", ":")}
  for row, kind in enumerate(kinds):
    for col, network in enumerate(networks):
      ax = axes[row][col]
      present = {key[2] for key in table if key[:2] == (network, kind)}
      for index, rule in enumerate(ordered_rules(present)):
        points = table.get((network, kind, rule))
        if not points:
          continue
        ks = sorted(points)
        color, line = styles.get(rule, (f"C{index}", "-"))
        ax.plot(
          ks,
          [points[k]["target_bit_accuracy"] for k in ks],
          marker="o" if rule not in styles else None,
          ms=4,
          color=color,
          ls=line,
          label=rule,
        )
      ax.set_xscale("log", base=2)
      all_ks = sorted(
        {k for key, points in table.items() if key[:2] == (network, kind) for k in points}
      )
      ax.set_xticks(all_ks, [str(k) for k in all_ks])
      ax.set_ylim(0.4, 1.02)
      ax.grid(alpha=0.3)
      ax.set_title(f"{network}, {kind} teacher", fontsize=10)
      ax.set_xlabel("K, pairs stored")
      if col == 0:
        ax.set_ylabel("target-bit accuracy, unseen keys")
      ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, 0.96), ncol=3)
  fig.tight_layout()
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  fig.savefig(path, dpi=110)
  plt.close(fig)


def validate(options) -> None:
  for network in options.networks:
    if network not in NETWORKS:
      raise ConfigError(f"networks: {network!r} is not one of {NETWORKS}.")
  for kind in options.teachers:
    if kind not in TEACHERS:
      raise ConfigError(f"teachers: {kind!r} is not one of {TEACHERS}.")
  parse_committed(options)


def section(context) -> list[str]:
  """Learning curves on unseen keys of a random teacher, and their plot."""
  found = context.read("teacher_curves.jsonl")
  if not any(r.get("kind") == CURVE for r in found):
    return []
  plot(found, context.plot_path("teacher_curves.png"))
  table = markdown(found).rstrip("\n").split("\n")
  return table[:2] + [f"![teacher curves]({context.link('teacher_curves.png')})", ""] + table[2:]


STUDY = Study(
  name="teacher_curves",
  run=run,
  section=section,
  validate=validate,
  summary=lambda found, options: [markdown(found)],
)
