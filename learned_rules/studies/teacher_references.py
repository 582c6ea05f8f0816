r"""Textbook references for the teacher task: numpy learners on the engine's own episodes.

  python -m experiments.study --config=configs/studies/teacher_references.py

Does the harness lose information on its way to the answer neurons, or do its teachers differ
from the textbook's? For each network (fully connected [x, y]; layered, y taught to the outputs),
teacher and K of `eval_ks`, every learner answers the same unseen keys of the same episodes
(those `evaluation.evaluate` scores, seed `report.EVAL_SEED_OFFSET`):
- numpy, on the raw keys (`baselines/perceptron.py`): the Hebb perceptron, the pseudo-inverse
  (least squares) and one pass of the normalized delta rule; on the layered net also the same
  three over a frozen random tanh layer of the net's hidden width and start gain, drawn afresh
  per episode as the engine draws its synapses (`*_features`), and the Hebb perceptron over a
  layer `wide_features` wide (what the hidden layer's width costs);
- textbook, linear teacher only: the large-D closed form of the Hebb perceptron at a = K / D, and
  the numpy Hebb perceptron on episodes of numpy's own making (a Gaussian teacher, fresh ±1
  keys) at the task's D and at `large_d` bits (same a), which tells the teachers apart from the
  finite size;
- the engine's rules on the task as configured: fully connected `hebbian`, `delta` and their
  cue-weighted forms at rule.free_weight 0.25 (the configs' default) and 0 (free neurons silent
  at recall: the answer read from the cue alone); layered `hebbian` (reads no teaching),
  `hebbian_features`, `delta_features` and `backprop` with 1 and 10 passes at each rate of
  `backprop_rates` (the best per K is shown, chosen on these episodes);
- the majority of the stored answers (`floor`);
- saved learned rules (`committed`, 'network:label=rule_dir'), as they are.

Records: one JSON line of kind 'teacher_reference' per (network, teacher, learner, K[, rate]) in
`records`; a point already there is skipped, so a rerun continues.
"""

import os
import time

import numpy as np
from absl import logging

from learned_rules import evaluation, experiment
from learned_rules.baselines import perceptron
from learned_rules.common import overrides
from learned_rules.common import records as records_io
from learned_rules.common.errors import ConfigError
from learned_rules.studies import teacher_curves
from learned_rules.studies.base import Study
from learned_rules.train import report, saved_rules

KIND = "teacher_reference"
NETWORKS, TEACHERS = teacher_curves.NETWORKS, teacher_curves.TEACHERS
NUMPY = tuple(f"numpy_{name}" for name in perceptron.LEARNERS)
FEATURES = tuple(f"{name}_features" for name in NUMPY) + ("numpy_hebb_wide_features",)
TEXTBOOK = ("closed_form_hebb", "textbook_hebb", "textbook_hebb_large_d")
# Engine rows: label -> (rule name, settings).
ENGINE = {
  "fully_connected": {
    "hebbian": ("hebbian", {}),
    "hebbian_cued": ("hebbian_cued", {"rule.free_weight": 0.25}),
    "hebbian_cued_silent": ("hebbian_cued", {"rule.free_weight": 0.0}),
    "delta": ("delta", {}),
    "delta_cued": ("delta_cued", {"rule.free_weight": 0.25}),
    "delta_cued_silent": ("delta_cued", {"rule.free_weight": 0.0}),
  },
  "layered": {
    "hebbian": ("hebbian", {}),
    "hebbian_features": ("hebbian_features", {}),
    "delta_features": ("delta_features", {}),
  },
}
PASSES = {"backprop_1pass": 1, "backprop_10pass": 10}
ROW_ORDER = (
  NUMPY
  + FEATURES
  + TEXTBOOK
  + ("hebbian", "hebbian_cued", "hebbian_cued_silent", "delta", "delta_cued", "delta_cued_silent")
  + ("hebbian_features", "delta_features")
  + tuple(PASSES)
  + ("floor",)
)
DESCRIPTIONS = {
  "numpy_hebb": "numpy Hebb perceptron, J = sum y x^T",
  "numpy_pseudo_inverse": "numpy pseudo-inverse (least squares)",
  "numpy_delta": "numpy normalized delta rule, one pass",
  "numpy_hebb_features": "numpy Hebb over random tanh features",
  "numpy_pseudo_inverse_features": "numpy pseudo-inverse over random tanh features",
  "numpy_delta_features": "numpy delta over random tanh features, one pass",
  "numpy_hebb_wide_features": "numpy Hebb over a wide random tanh layer (`wide_features`)",
  "closed_form_hebb": "closed form, Hebb perceptron at large D, a = K / D",
  "textbook_hebb": "numpy Hebb on numpy's own teacher episodes, same D",
  "textbook_hebb_large_d": "numpy Hebb on numpy's own episodes at large D, same a",
  "hebbian": "engine hebbian",
  "hebbian_cued": "engine hebbian_cued, free weight 0.25",
  "hebbian_cued_silent": "engine hebbian_cued, free weight 0",
  "delta": "engine delta",
  "delta_cued": "engine delta_cued, free weight 0.25",
  "delta_cued_silent": "engine delta_cued, free weight 0",
  "hebbian_features": "engine hebbian_features",
  "delta_features": "engine delta_features",
  "backprop_1pass": "engine backprop, 1 pass",
  "backprop_10pass": "engine backprop, 10 passes",
  "floor": "majority of the stored answers",
}


# --- numpy learners on the engine's episodes -----------------------------------------------------
def episode_pairs(batch, k: int):
  """[(stored keys (K, D), stored answers (K, D), query keys, query answers)] of a host batch."""
  return [
    (
      np.asarray(batch.stored_keys[i][-k:]),  # the last K slots are the stored ones
      np.asarray(batch.stored_answers[i][-k:]),
      np.asarray(batch.query_keys[i]),
      np.asarray(batch.query_answers[i]),
    )
    for i in range(batch.stored_keys.shape[0])
  ]


def numpy_accuracies(task, k: int, options, feature_width: int, feature_gain: float) -> dict:
  """{learner: accuracy} of the numpy learners on exactly the episodes the engine is scored on."""
  right = {name: [] for name in NUMPY + (FEATURES if feature_width else ())}
  batches = evaluation.episodes(
    task, report.EVAL_SEED_OFFSET, options.eval_episodes, options.eval_batch_size, k
  )
  rng = np.random.default_rng(options.feature_seed)
  wide_rng = np.random.default_rng([options.feature_seed, 1])  # its own stream: rows independent
  for batch in batches:
    for keys, answers, queries, truth in episode_pairs(batch, k):
      for name, learner in perceptron.LEARNERS.items():
        weights = learner(keys, answers)
        right[f"numpy_{name}"].append(perceptron.predict(weights, queries) == truth)
      if not feature_width:
        continue
      both, _ = perceptron.random_features(
        np.concatenate([keys, queries]), feature_width, feature_gain, rng
      )
      stored, asked = both[: len(keys)], both[len(keys) :]
      for name, learner in perceptron.LEARNERS.items():
        weights = learner(stored, answers)
        right[f"numpy_{name}_features"].append(perceptron.predict(weights, asked) == truth)
      both, _ = perceptron.random_features(
        np.concatenate([keys, queries]), options.wide_features, feature_gain, wide_rng
      )
      weights = perceptron.hebb(both[: len(keys)], answers)
      right["numpy_hebb_wide_features"].append(
        perceptron.predict(weights, both[len(keys) :]) == truth
      )
  return {name: float(np.mean(values)) for name, values in right.items()}


def textbook_hebb(d: int, k: int, episodes: int, queries: int, rng) -> float:
  """Numpy Hebb perceptron on numpy's own episodes: Gaussian teacher W (D x D), ±1 keys."""
  right = []
  for _ in range(episodes):
    keys, answers, asked, truth = perceptron.textbook_episode(d, k, queries, rng)
    right.append(perceptron.predict(perceptron.hebb(keys, answers), asked) == truth)
  return float(np.mean(right))


def textbook_row(name: str, d: int, k: int, queries: int, options, rng) -> float:
  """The accuracy of a TEXTBOOK row at D = d bits and K = k pairs (a = k / d)."""
  if name == "closed_form_hebb":
    return perceptron.hebb_accuracy(k / d)
  if name == "textbook_hebb":
    return textbook_hebb(d, k, options.eval_episodes, queries, rng)
  large = options.large_d
  return textbook_hebb(large, round(k * large / d), options.large_d_episodes, 64, rng)


# --- records -------------------------------------------------------------------------------------
def _key(record: dict) -> tuple:
  return (
    record["network"],
    record["teacher"],
    record["learner"],
    record["k"],
    record.get("learning_rate"),
  )


def run(options) -> list:
  """Scores every point not yet recorded; returns all records."""
  validate(options)
  committed = teacher_curves.parse_committed(options)
  done = {_key(r) for r in records_io.read(options.records, KIND)}
  common = records_io.provenance(options.machine)

  def write(network, kind, learner, k, accuracy, seconds, **extra):
    record = {
      "kind": KIND,
      "network": network,
      "teacher": kind,
      "learner": learner,
      "k": k,
      "target_bit_accuracy": accuracy,
      "eval_episodes": options.eval_episodes,
      "wall_s": seconds,
      **extra,
    }
    records_io.append(options.records, record | common)
    done.add(_key(record))
    print(f"{network:<16} {kind:<9} {learner:<30} K={k:<3} {accuracy:.4f}", flush=True)

  for network in options.networks:
    for kind in options.teachers:
      for k in options.eval_ks:
        config = teacher_curves.teacher_config(network, options, kind, k)
        wanted = NUMPY + (FEATURES if network == "layered" else ())
        if any((network, kind, name, k, None) not in done for name in wanted):
          task = experiment.build(config).task
          width = config.topology.hidden_sizes[0] if network == "layered" else 0
          start = time.time()
          found = numpy_accuracies(task, k, options, width, config.rule.backprop_init_gain)
          seconds = (time.time() - start) / len(found)
          for name, accuracy in found.items():
            if (network, kind, name, k, None) not in done:
              write(network, kind, name, k, accuracy, seconds)
        if kind == "linear":
          d = config.task.pattern_bits
          rng = np.random.default_rng([options.feature_seed, k])
          for name in TEXTBOOK:
            if (network, kind, name, k, None) not in done:
              start = time.time()
              accuracy = textbook_row(name, d, k, config.task.num_queries, options, rng)
              extra = {"large_d": options.large_d} if name.endswith("large_d") else {}
              write(network, kind, name, k, accuracy, time.time() - start, **extra)
        for net, label, rule_dir in committed:
          if net != network or (network, kind, label, k, None) in done:
            continue
          point, params, saved = saved_rules.onto(
            teacher_curves.teacher_config(network, options, kind, k), rule_dir, options.bases
          )
          metrics, seconds = teacher_curves.evaluate_rule(point, "learned", params, options)
          extra = {"rule": "learned", "rule_dir": rule_dir, "trained_on": saved.task.name}
          write(network, kind, label, k, metrics["hidden_bit_accuracy"], seconds, **extra)
        for label, rule, settings, rate in engine_runs(network, options):
          if (network, kind, label, k, rate) in done:
            continue
          point = teacher_curves.teacher_config(network, options, kind, k)
          overrides.apply(point, settings.items(), "teacher_references setting")
          metrics, seconds = teacher_curves.evaluate_rule(point, rule, None, options)
          extra = {"rule": rule, "settings": settings}
          if rate is not None:
            extra |= {"learning_rate": rate, "passes": PASSES[label]}
          write(network, kind, label, k, metrics["hidden_bit_accuracy"], seconds, **extra)
  logging.info("teacher_references: %s", options.records)
  return records_io.read(options.records, KIND)


def engine_runs(network: str, options) -> list:
  """[(label, engine rule or reference, settings, learning rate or None)] on `network`."""
  runs = [(label, rule, settings, None) for label, (rule, settings) in ENGINE[network].items()]
  if network == "layered":
    for label, passes in PASSES.items():
      for rate in options.backprop_rates:
        settings = {"task.repetitions": passes, "rule.backprop_learning_rate": rate}
        runs.append((label, "backprop", settings, rate))
  return runs + [("floor", "floor", {}, None)]


def validate(options) -> None:
  for network in options.networks:
    if network not in NETWORKS:
      raise ConfigError(f"networks: {network!r} is not one of {NETWORKS}.")
  for kind in options.teachers:
    if kind not in TEACHERS:
      raise ConfigError(f"teachers: {kind!r} is not one of {TEACHERS}.")
  for key in ("eval_episodes", "eval_batch_size", "large_d", "large_d_episodes", "wide_features"):
    if not isinstance(options[key], int) or options[key] < 1:
      raise ConfigError(f"{key}={options[key]!r}: must be a positive integer.")
  for _, label, _ in teacher_curves.parse_committed(options):
    if label in ROW_ORDER:
      raise ConfigError(f"committed rule label {label!r} is taken by a built-in row.")


# --- report --------------------------------------------------------------------------------------
def best(records: list) -> dict:
  """{(network, teacher, learner): {K: record}}, the best learning rate per K where several ran."""
  table = {}
  for record in records:
    row = table.setdefault((record["network"], record["teacher"], record["learner"]), {})
    old = row.get(record["k"])
    if old is None or record["target_bit_accuracy"] > old["target_bit_accuracy"]:
      row[record["k"]] = record
  return table


def row_names(table: dict, network: str, kind: str) -> list:
  """The rows present for (network, teacher): built-in ones in ROW_ORDER, saved rules before the
  floor."""
  present = {key[2] for key in table if key[:2] == (network, kind)}
  built_in = [name for name in ROW_ORDER if name in present and name != "floor"]
  return built_in + sorted(present - set(ROW_ORDER)) + (["floor"] if "floor" in present else [])


def _description(name: str, points: dict) -> str:
  if name in DESCRIPTIONS:
    return DESCRIPTIONS[name]
  dirs = sorted({p["rule_dir"] for p in points.values() if "rule_dir" in p})
  return f"{name} (saved rule `{', '.join(dirs)}`)" if dirs else name


def markdown(records: list) -> list[str]:
  table = best(records)
  ks = sorted({r["k"] for r in records})
  lines = []
  for network in NETWORKS:
    for kind in TEACHERS:
      present = row_names(table, network, kind)
      if not present:
        continue
      lines += [f"**{network}, {kind} teacher** (target-bit accuracy on unseen keys)", ""]
      lines += ["| learner | " + " | ".join(f"K = {k}" for k in ks) + " |"]
      lines += ["|---|" + "---:|" * len(ks)]
      for name in present:
        points = table[(network, kind, name)]
        cells = []
        for k in ks:
          point = points.get(k)
          if point is None:
            cells.append("-")
          elif point.get("learning_rate") is not None:
            cells.append(f"{point['target_bit_accuracy']:.3f} (lr {point['learning_rate']:g})")
          else:
            cells.append(f"{point['target_bit_accuracy']:.3f}")
        lines.append(f"| {_description(name, points)} | " + " | ".join(cells) + " |")
      lines.append("")
  episodes = sorted({r["eval_episodes"] for r in records})
  large_d = sorted({r["large_d"] for r in records if "large_d" in r})
  machines = sorted({r["machine"] for r in records if "machine" in r})
  commands = sorted({r["command"] for r in records if "command" in r})
  seconds = sum(r.get("wall_s", 0.0) for r in records)
  lines += [
    f"{', '.join(map(str, episodes))} episodes per point, the same for every learner at a K "
    "(the engine's evaluation stream); each asks 8 unseen keys, all 16 answer bits scored. "
    f"Large D: {', '.join(map(str, large_d))} bits. backprop: best rate per K on these episodes "
    f"(optimistic for it). {seconds / 60:.1f} min in all on {', '.join(machines)}.",
    "",
    "Command: " + "; ".join(f"`{c}`" for c in commands),
    "",
  ]
  return lines


def plot(records: list, path: str) -> None:
  """Accuracy against K per network and teacher: numpy references dashed, engine rules solid."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  table = best(records)
  kinds = [t for t in TEACHERS if any(key[1] == t for key in table)]
  networks = [n for n in NETWORKS if any(key[0] == n for key in table)]
  fig, axes = plt.subplots(
    len(kinds), len(networks), figsize=(5.5 * len(networks), 4 * len(kinds)), squeeze=False
  )
  for row, kind in enumerate(kinds):
    for col, network in enumerate(networks):
      ax = axes[row][col]
      for index, name in enumerate(row_names(table, network, kind)):
        points = table[(network, kind, name)]
        ks = sorted(points)
        reference = name in NUMPY + FEATURES + TEXTBOOK
        ax.plot(
          ks,
          [points[k]["target_bit_accuracy"] for k in ks],
          ls="--" if reference else "-",
          marker=None if reference else "o",
          ms=3,
          color="grey" if name == "floor" else f"C{index % 10}",
          label=name,
        )
      ax.set_xscale("log", base=2)
      all_ks = sorted({k for key, p in table.items() if key[:2] == (network, kind) for k in p})
      ax.set_xticks(all_ks, [str(k) for k in all_ks])
      ax.set_ylim(0.45, 0.85)
      ax.grid(alpha=0.3)
      ax.set_title(f"{network}, {kind} teacher", fontsize=10)
      ax.set_xlabel("K, pairs stored")
      if col == 0:
        ax.set_ylabel("target-bit accuracy, unseen keys")
      ax.legend(fontsize=6, loc="upper left", ncol=2)
  fig.tight_layout()
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  fig.savefig(path, dpi=110)
  plt.close(fig)


def section(context) -> list[str]:
  found = context.read("teacher_references.jsonl", KIND)
  if not found:
    return []
  plot(found, context.plot_path("teacher_references.png"))
  return [
    "## Textbook references on the teacher task's own episodes",
    "",
    f"![teacher references]({context.link('teacher_references.png')})",
    "",
    *markdown(found),
  ]


STUDY = Study(
  name="teacher_references",
  run=run,
  section=section,
  validate=validate,
  summary=lambda found, options: markdown(found),
)
