r"""Layered hetero-association, rule x K: saved learned rules beside hand-written ones.

  python -m experiments.study --config=configs/studies/layered_table.py \
    --config.rules=learned_warm=results/rules/layered_warm_s0,results/rules/layered_warm_s1

The task is `config.bases.remember_layered` (configs/remember_layered.py: K pairs of D = 16
bits on 16 -> 32 -> 16 neurons, the target on the outputs' teaching channel while a pair is
stored, recall read at the last step of each cue) at every K of `eval_ks`, K pairs in K
slots. Every rule answers the same held-out episodes at a K (seed `report.EVAL_SEED_OFFSET`,
the main job's evaluation episodes at seed 0):
each saved learned rule (a group of seeds under one label: median and range), `backprop` (one
SGD pass, every rate of `backprop_rates`, the best per K kept: optimistic for it),
`delta_features` (rate from the config), the oracle (ceiling) and the per-bit majority of the
stored answers (floor: what a network that stores the answers but ignores the cue scores; its
own draw of as many episodes, not the same ones).
Records (kind 'layered_table') are appended to `records`; points already there are skipped.
"""

import statistics
import time

import jax

from learned_rules import evaluation, experiment, probes
from learned_rules.common import overrides
from learned_rules.common import records as records_io
from learned_rules.common.errors import ConfigError
from learned_rules.studies.base import Study
from learned_rules.train import report, saved_rules

KIND = "layered_table"
HANDWRITTEN = ("backprop", "delta_features")
REFERENCES = ("oracle", "floor")


def read_records(path: str) -> list:
  return records_io.read(path, KIND)


def parse_rules(options) -> list:
  """[(label, [rule_dir, ...])] from entries 'label=rule_dir' (an entry that is only a rule_dir
  joins the label before it: 'a=x,y' given as one list is two seeds of label a); ConfigError
  names a bad entry."""
  groups: dict = {}
  label = None
  entries = [part for entry in options.rules for part in entry.split(",") if part.strip()]
  for entry in entries:
    name, sep, path = entry.partition("=")
    if sep:
      label = name.strip()
    else:
      path = name
    if not label or not path.strip() or label in HANDWRITTEN + REFERENCES:
      raise ConfigError(
        f"rules: {entry!r}: expected 'label=rule_dir' (then more rule_dirs of that label) with a "
        f"label other than {HANDWRITTEN + REFERENCES}."
      )
    saved_rules.load(path.strip(), options.bases, f"rules: {entry!r}")
    paths = groups.setdefault(label, [])
    if path.strip() not in paths:  # a directory given twice counts once
      paths.append(path.strip())
  return list(groups.items())


def task_config(k: int, options, source: str = "layered_table override"):
  """The layered task of `options.bases` at K = k pairs in k slots, with `options.overrides`
  (named `source` in their errors)."""
  config = options.bases.remember_layered.copy_and_resolve_references()
  overrides.apply(config, options.overrides, source)
  with config.unlocked():
    config.task.k_min = config.task.k_max = k
    config.eval.k = k
  return config


def _score(config, rule: str, params, options) -> tuple[dict, float]:
  exp = experiment.build(config)
  task = experiment.eval_task(config, exp.task)
  k = config.task.k_max
  common = dict(
    seed=report.EVAL_SEED_OFFSET,
    num_episodes=options.eval_episodes,
    batch_size=min(options.eval_batch_size, options.eval_episodes),
    num_patterns=k,
  )
  start = time.time()
  if rule == "floor":
    rng = jax.random.PRNGKey(report.EVAL_SEED_OFFSET)
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


def run(options) -> list:
  """Evaluates every point not yet in `records`; returns all records."""
  groups = parse_rules(options)
  records = read_records(options.records)
  done = {(r["rule"], r.get("rule_dir"), r["k"], r.get("learning_rate")) for r in records}
  common = {
    "kind": KIND,
    **records_io.provenance(options.machine),
    "eval_episodes": options.eval_episodes,
  }

  def write(record):
    record = common | record
    records_io.append(options.records, record)
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
        config, params, saved = saved_rules.onto(task_config(k, options), path, options.bases)
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
    f"{'; '.join(machines)}. backprop's rate is chosen per K on these same episodes.",
    "",
    "Command: " + "; ".join(f"`{c}`" for c in commands),
    "",
  ]
  return "\n".join(lines)


def section(context) -> list[str]:
  found = context.read("layered_table.jsonl", KIND)
  return markdown(found).rstrip("\n").split("\n") if found else []


STUDY = Study(
  name="layered_table",
  run=run,
  section=section,
  validate=parse_rules,
  summary=lambda found, options: [markdown(found)],
)
