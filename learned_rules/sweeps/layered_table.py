r"""Layered hetero-association, rule x K: saved learned rules beside hand-written ones (issue 10).

  python -m experiments.layered_table \
    --rules=learned_warm=results/rules/layered_warm_s0,results/rules/layered_warm_s1 \
    --rules=hebbian_start=results/rules/layered_hebbian_start

The task is configs/remember_layered.py's (K pairs of D = 16 bits on 16 -> 32 -> 16 neurons, the
target on the outputs' teaching channel while a pair is stored, recall read at the last step of
each cue) at every K of `eval_ks`, K pairs in K slots. Every rule answers the same held-out
episodes at a K (seed `trainer.EVAL_SEED_OFFSET`, the main job's evaluation episodes at seed 0):
each saved learned rule (a group of seeds under one label: median and range), `backprop` (one
SGD pass, every rate of `backprop_rates`, the best per K kept: optimistic for it),
`delta_features` (rate from the config), the oracle (ceiling) and the per-bit majority of the
stored answers (floor: what a network that stores the answers but ignores the cue scores; its
own draw of as many episodes, not the same ones).
Records (kind 'layered_table') are appended to `records`; points already there are skipped.
"""

import dataclasses
import json
import os
import platform
import shlex
import statistics
import sys
import time

import jax

from configs import remember_layered
from learned_rules import evaluation, experiment, probes
from learned_rules.common import overrides, writers
from learned_rules.common.errors import ConfigError
from learned_rules.sweeps import saved_rules
from learned_rules.train import trainer

KIND = "layered_table"
HANDWRITTEN = ("backprop", "delta_features")
REFERENCES = ("oracle", "floor")


@dataclasses.dataclass(frozen=True)
class Options:
  rules: tuple = ()  # ("label=dir[,dir...]", ...): saved learned rules, seeds of one label
  eval_ks: tuple = (2, 4, 6, 8, 12)
  eval_episodes: int = 512
  eval_batch_size: int = 128
  backprop_rates: tuple = (0.01, 0.04, 0.1)
  records: str = "results/layered_table.jsonl"
  overrides: tuple = ()  # ("key=value", ...) for the task config (tests: tiny sizes)
  machine: str = ""
  command: str = ""


def read_records(path: str) -> list:
  records = writers.read_jsonl(path) if os.path.exists(path) else []
  return [r for r in records if r.get("kind") == KIND]


def parse_rules(options: Options) -> list:
  """[(label, [rule_dir, ...])]; ConfigError names a bad entry."""
  groups = []
  for entry in options.rules:
    label, sep, dirs = entry.partition("=")
    paths = list(dict.fromkeys(p for p in dirs.split(",") if p))  # a directory given twice: once
    if not (sep and label and paths) or label in HANDWRITTEN + REFERENCES:
      raise ConfigError(
        f"rule {entry!r}: expected 'label=rule_dir[,rule_dir...]' with a label other than "
        f"{HANDWRITTEN + REFERENCES}."
      )
    for path in paths:
      saved_rules.load(path, f"rule {entry!r}")
    groups.append((label, paths))
  return groups


def task_config(k: int, options: Options):
  config = remember_layered.get_config()
  overrides.apply(config, options.overrides, "layered_table override")
  with config.unlocked():
    config.task.k_min = config.task.k_max = k
    config.eval.k = k
  return config


def _score(config, rule: str, params, options: Options) -> tuple[dict, float]:
  exp = experiment.build(config)
  task = experiment.eval_task(config, exp.task)
  k = config.task.k_max
  common = dict(
    seed=trainer.EVAL_SEED_OFFSET,
    num_episodes=options.eval_episodes,
    batch_size=min(options.eval_batch_size, options.eval_episodes),
    num_patterns=k,
  )
  start = time.time()
  if rule == "floor":
    rng = jax.random.PRNGKey(trainer.EVAL_SEED_OFFSET)
    accuracy = probes.majority_answer_accuracy(task, rng, options.eval_episodes, k)
    metrics = {"hidden_bit_accuracy": accuracy, "perfect_recall_fraction": float("nan")}
  elif rule == "oracle":
    metrics = evaluation.evaluate(None, None, task, **common)
  else:
    model = exp.model(rule)
    if params is None:
      params = model.init_params(jax.random.PRNGKey(0))
    metrics = evaluation.evaluate(model, params, task, **common)
  return metrics, time.time() - start


def run(options: Options) -> list:
  """Evaluates every point not yet in `records`; returns all records."""
  groups = parse_rules(options)
  records = read_records(options.records)
  done = {(r["rule"], r.get("rule_dir"), r["k"], r.get("learning_rate")) for r in records}
  common = {
    "kind": KIND,
    "command": options.command
    or "python -m experiments.layered_table " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
    "machine": options.machine or f"{os.cpu_count()}-core CPU ({platform.machine()})",
    "date": time.strftime("%Y-%m-%d"),
    "eval_episodes": options.eval_episodes,
  }
  os.makedirs(os.path.dirname(options.records) or ".", exist_ok=True)

  def write(record):
    record = common | record
    with open(options.records, "a") as f:
      f.write(json.dumps(record) + "\n")
    records.append(record)
    done.add((record["rule"], record.get("rule_dir"), record["k"], record.get("learning_rate")))
    print(
      f"layered_table {record['rule']:<18} K={record['k']:<3} "
      f"{record['target_bit_accuracy']:.4f} {record.get('rule_dir') or ''}",
      flush=True,
    )

  for k in options.eval_ks:
    for label, paths in groups:
      for path in paths:
        if (label, path, k, None) in done:
          continue
        config, params, saved = saved_rules.onto(task_config(k, options), path)
        metrics, seconds = _score(config, "learned", params, options)
        write(
          _point(label, k, metrics, seconds)
          | {"rule_dir": path, "trained_steps": saved.train.num_steps}
        )
    for rate in options.backprop_rates:
      if ("backprop", None, k, rate) in done:
        continue
      config = task_config(k, options)
      with config.unlocked():
        config.rule.backprop_learning_rate = rate
      metrics, seconds = _score(config, "backprop", None, options)
      write(_point("backprop", k, metrics, seconds) | {"learning_rate": rate})
    for rule in ("delta_features",) + REFERENCES:
      if (rule, None, k, None) in done:
        continue
      metrics, seconds = _score(task_config(k, options), rule, None, options)
      write(_point(rule, k, metrics, seconds))
  return records


def _point(rule: str, k: int, metrics: dict, seconds: float) -> dict:
  return {
    "rule": rule,
    "k": k,
    "target_bit_accuracy": float(metrics["hidden_bit_accuracy"]),
    "perfect_recall_fraction": float(metrics["perfect_recall_fraction"]),
    "eval_wall_s": seconds,
  }


def markdown(records: list) -> str:
  """Rule x K: median (range over seeds) for learned labels; best rate for backprop."""
  records = [r for r in records if r.get("kind") == KIND]
  if not records:
    return "No layered-table records yet.\n"
  ks = sorted({r["k"] for r in records})
  labels = []
  for r in records:
    if r["rule"] not in labels and r["rule"] not in HANDWRITTEN + REFERENCES:
      labels.append(r["rule"])
  lines = [
    "## Layered networks taught at their outputs: target-bit accuracy against K",
    "",
    "| rule | " + " | ".join(f"K = {k}" for k in ks) + " |",
    "|---|" + "---:|" * len(ks),
  ]
  for label in labels + list(HANDWRITTEN) + list(REFERENCES):
    cells, seeds, rates = [], 0, set()
    for k in ks:
      points = [r for r in records if r["rule"] == label and r["k"] == k]
      if not points:
        cells.append("-")
        continue
      values = [p["target_bit_accuracy"] for p in points]
      if label == "backprop":
        best = max(points, key=lambda p: p["target_bit_accuracy"])
        rates |= {p["learning_rate"] for p in points}
        cells.append(f"{best['target_bit_accuracy']:.4f} (lr {best['learning_rate']:g})")
      elif len(values) > 1:
        seeds = max(seeds, len(values))
        med = statistics.median(values)
        cells.append(f"{med:.4f} ({min(values):.4f}-{max(values):.4f})")
      else:
        cells.append(f"{values[0]:.4f}")
    name = label
    dirs = sorted({r["rule_dir"] for r in records if r["rule"] == label and "rule_dir" in r})
    if dirs:
      name += f" ({seeds} seeds: median (range); " if seeds > 1 else " ("
      name += ", ".join(f"`{d}`" for d in dirs) + ")"
    elif label == "backprop":
      name += f" (one pass, best of lr {', '.join(f'{r:g}' for r in sorted(rates))} per K)"
    elif label == "floor":
      name += " (per-bit majority of the stored answers)"
    lines.append(f"| {name} | " + " | ".join(cells) + " |")
  episodes = sorted({r["eval_episodes"] for r in records})
  machines = sorted({r["machine"] for r in records})
  commands = sorted({r["command"] for r in records})
  eval_s = sum(r.get("eval_wall_s", 0.0) for r in records)
  lines += [
    "",
    f"{', '.join(map(str, episodes))} held-out episodes per point, the same for every rule at "
    f"a K (K pairs in K slots), except the floor, computed by `probes.majority_answer_accuracy` "
    f"on its own draw of as many episodes; evaluation {eval_s / 60:.1f} min on "
    f"{', '.join(machines)}. backprop's rate is chosen per K on these same episodes.",
    "",
    "Command: " + "; ".join(f"`{c}`" for c in commands),
    "",
  ]
  return "\n".join(lines)
