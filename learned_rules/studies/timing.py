r"""Timing indifference: a rule scored across the task's timing and difficulty axes.

  python -m experiments.study --config=configs/studies/timing.py

A learning rule does not care how long a pattern is shown, how long the network waits or how much
of a cue is hidden, beyond what the information allows. This study moves one axis of the remember
task at a time away from the layout the rules were trained on (`axes`: 'task.key=v1,v2,...'; the
other keys keep the trained values of the `remember` base config: P = 2 store steps, R = 1
repetition, G = 1 gap step, Q = 2 delay steps, P_r = 3 recall steps, c = 0.5 of a cue hidden,
K patterns in K slots) and scores every rule of `rules` (hand-written names, or saved rule
directories) at N = `n` neurons (fully connected, auto mode) and K = `k` patterns on the same
episodes: the episodes depend only on the task, which is the same for every rule at a setting.
`task.k_max` moves the episode's length around the fixed K (k_max - K blank slots first).

Records (kind 'timing', one per (rule, N, K, setting); a recorded point is skipped, so a rerun
continues): hidden-bit accuracy and the setting. The section has one table per axis, the plot,
and per rule its accuracy as trained, its worst setting and the two checks of our target: at or
above the reference rule (`reference`, cue-weighted Storkey) at every setting, and no setting more
than `tolerance` below its own accuracy as trained unless the reference drops as much there.
"""

import os
import time

import jax

from learned_rules import evaluation, experiment
from learned_rules.common import overrides
from learned_rules.common import records as records_io
from learned_rules.common.errors import ConfigError
from learned_rules.studies.base import Study
from learned_rules.train import params_io, saved_rules

KIND = "timing"
SEED = 20261207  # the evaluation episodes' seed, the same for every rule and setting
AS_TRAINED = "as trained"


def parse_axes(axes) -> list[tuple[str, list]]:
  """('task.delay_steps=0 2 64', ...) -> [('task.delay_steps', [0, 2, 64]), ...]."""
  out = []
  for entry in axes:
    key, sep, values = str(entry).partition("=")
    if not sep or not key.startswith("task.") or not values:
      raise ConfigError(f"axes: {entry!r} is not 'task.key=v1 v2 ...'.")
    parsed = [overrides.parse_value(v) for v in values.split()]
    out.append((key, parsed))
  return out


def base_task(config):
  """The trained layout at N = config.n, K = config.k: the remember base's task block."""
  task = config.bases.remember.task.copy_and_resolve_references()
  with task.unlocked():
    task.mode = "auto"
    task.pattern_bits = config.n
    task.k_min, task.k_max = 1, config.k
  return task


def setting_name(key: str, value, trained) -> str:
  return AS_TRAINED if value == trained else f"{key.split('.', 1)[1]}={value}"


def settings(config) -> dict:
  """{setting name: {task key: value}} of every distinct setting, 'as trained' first."""
  task = base_task(config)
  out = {AS_TRAINED: {}}
  for key, values in parse_axes(config.axes):
    field = key.split(".", 1)[1]
    if field not in task:
      raise ConfigError(f"axes: {key!r} is not a key of the remember task.")
    for value in values:
      name = setting_name(key, value, task[field])
      if name != AS_TRAINED:
        out[name] = {key: value}
  return out


def rule_config(rule: str, config, changes: dict):
  """(label, config) of a hand-written rule name or saved rule directory on the setting's task."""
  if os.sep in rule or os.path.isdir(rule):
    rule_config = saved_rules.load(rule, config.bases, f"rules entry {rule!r}")
    label = os.path.basename(os.path.normpath(rule))
  else:
    rule_config = config.bases.remember.copy_and_resolve_references()
    with rule_config.unlocked():
      rule_config.rule.name = rule
    label = rule
  with rule_config.unlocked():
    rule_config.task = base_task(config)
    rule_config.topology.name = "fully_connected"
    rule_config.eval.baselines = ()
  overrides.apply(rule_config, changes.items(), "timing setting")
  return label, rule_config


def measure(rule: str, config, changes: dict) -> tuple[str, float]:
  """(label, hidden-bit accuracy) of `rule` at the setting, on the study's fixed episodes."""
  label, point = rule_config(rule, config, changes)
  exp = experiment.build(point)
  model = exp.model(point.rule.name)
  params = model.init_params(jax.random.PRNGKey(0))
  if point.eval.get("params_file"):
    params = params_io.load_params(point.eval.params_file, params)
  batch = min(config.eval_batch_size, config.episodes)
  found = evaluation.evaluate(
    model, params, exp.task, SEED, config.episodes, batch, num_patterns=config.k
  )
  return label, found["hidden_bit_accuracy"]


def validate(config) -> None:
  if config.reference not in config.rules:
    raise ConfigError(f"reference={config.reference!r} must be one of rules {config.rules}.")
  for name, changes in settings(config).items():
    for rule in config.rules:
      _, point = rule_config(rule, config, changes)
      experiment.build(point).task.check_load(config.k, f"k (setting {name!r})")


def run(config) -> list:
  validate(config)
  done = {(r["rule"], r["n"], r["k"], r["setting"]) for r in records_io.read(config.records, KIND)}
  common = records_io.provenance(config.machine)
  for rule in config.rules:
    label = rule_config(rule, config, {})[0]
    for name, changes in settings(config).items():
      if (label, config.n, config.k, name) in done:
        continue
      start = time.time()
      label, accuracy = measure(rule, config, changes)
      record = {
        "kind": KIND,
        "rule": label,
        "n": config.n,
        "k": config.k,
        "setting": name,
        "changes": changes,
        "hidden_bit_accuracy": accuracy,
        "episodes": config.episodes,
        "wall_s": time.time() - start,
      }
      records_io.append(config.records, record | common)
      print(f"{label:<22} N={config.n} K={config.k} {name:<24} {accuracy:.4f}", flush=True)
  return records_io.read(config.records, KIND)


# --- report --------------------------------------------------------------------------------------
def by_rule(records: list) -> dict:
  """{(n, k): {rule: {setting: accuracy}}}."""
  out = {}
  for r in records:
    out.setdefault((r["n"], r["k"]), {}).setdefault(r["rule"], {})[r["setting"]] = r[
      "hidden_bit_accuracy"
    ]
  return out


def axis_of(setting: str) -> str:
  return setting.split("=")[0]


def value_of(setting: str):
  return overrides.parse_value(setting.split("=", 1)[1])


def setting_order(setting: str) -> tuple:
  """'as trained' first, then by axis and value."""
  if setting == AS_TRAINED:
    return ("", 0)
  return (axis_of(setting), value_of(setting))


def listed(settings: list, most: int = 8) -> str:
  """Up to `most` settings by name, then how many more."""
  settings = sorted(settings, key=setting_order)
  text = ", ".join(settings[:most]) or "none"
  return text + (f" and {len(settings) - most} more" if len(settings) > most else "")


def verdicts(points: dict, reference: str, tolerance: float) -> dict:
  """Per rule: as trained, worst setting, settings below the reference, unexplained drops."""
  ref = points.get(reference, {})
  out = {}
  for rule, scores in points.items():
    trained = scores.get(AS_TRAINED)
    if trained is None:
      continue
    worst = min(scores, key=scores.get)
    below = sorted(s for s in scores if s in ref and scores[s] < ref[s])
    ref_trained = ref.get(AS_TRAINED)
    drops = sorted(
      s
      for s in scores
      if scores[s] < trained - tolerance
      and not (
        s in ref and ref_trained is not None and ref[s] <= ref_trained - (trained - scores[s])
      )
    )
    shared = [s for s in scores if s in ref]
    worst_gap = min(shared, key=lambda s: scores[s] - ref[s]) if shared else worst
    out[rule] = {
      "as_trained": trained,
      "worst_against_reference": worst_gap,
      "gap": scores[worst_gap] - ref.get(worst_gap, scores[worst_gap]),
      "worst": worst,
      "worst_accuracy": scores[worst],
      "below_reference": below,
      "drops": drops,
      "settings": len(scores),
    }
  return out


def markdown(records: list, reference: str, tolerance: float) -> list[str]:
  lines = []
  for (n, k), points in sorted(by_rule(records).items()):
    rules = list(points)
    found = {s for scores in points.values() for s in scores}
    axes = []
    for setting in sorted(found - {AS_TRAINED}):
      if axis_of(setting) not in axes:
        axes.append(axis_of(setting))
    lines += [
      f"**N = {n}, K = {k}** (hidden-bit accuracy; '{AS_TRAINED}': P = 2, R = 1, G = 1, "
      "Q = 2, P_r = 3, c = 0.5, K slots)",
      "",
    ]
    for axis in axes:
      settings_here = sorted((s for s in found if axis_of(s) == axis), key=value_of)
      values = [value_of(s) for s in settings_here]
      lines += [f"| {axis} | {AS_TRAINED} | " + " | ".join(map(str, values)) + " |"]
      lines += ["|---|" + "---:|" * (len(values) + 1)]
      for rule in rules:
        cells = [points[rule].get(AS_TRAINED)] + [points[rule].get(s) for s in settings_here]
        lines.append(
          f"| {rule} | " + " | ".join("-" if c is None else f"{c:.4f}" for c in cells) + " |"
        )
      lines.append("")
    lines += [
      f"| rule | as trained | worst setting | worst against {reference} | "
      f"settings below {reference} | "
      f"unexplained drops > {tolerance:g} | target met |",
      "|---|---:|---|---|---|---|---|",
    ]
    for rule, v in verdicts(points, reference, tolerance).items():
      if rule == reference:
        below = "(the reference)"
      else:
        below = f"{len(v['below_reference'])} of {v['settings']}: " + listed(v["below_reference"])
      drops = f"{len(v['drops'])}: " + listed(v["drops"])
      against = "-" if rule == reference else f"{v['worst_against_reference']} ({v['gap']:+.4f})"
      met = "yes" if not v["drops"] and (rule == reference or not v["below_reference"]) else "no"
      lines.append(
        f"| {rule} | {v['as_trained']:.4f} | {v['worst']} ({v['worst_accuracy']:.4f}) "
        f"| {against} | {below} "
        f"| {drops} | {met} |"
      )
    lines.append("")
  episodes = sorted({r["episodes"] for r in records})
  machines = sorted({r["machine"] for r in records if "machine" in r})
  commands = sorted({r["command"] for r in records if "command" in r})
  seconds = sum(r.get("wall_s", 0.0) for r in records)
  lines += [
    f"{', '.join(map(str, episodes))} episodes per point, the same for every rule at a setting; "
    f"an unexplained drop is a setting more than {tolerance:g} below the rule's own accuracy as "
    f"trained where {reference} does not drop as much. {seconds / 60:.1f} min on "
    f"{', '.join(machines)}.",
    "",
    "Command: " + "; ".join(f"`{c}`" for c in commands),
    "",
  ]
  return lines


def plot(records: list, path: str) -> None:
  """One panel per axis: accuracy against the axis' value, one line per rule."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  for (_n, _k), points in sorted(by_rule(records).items())[:1]:
    found = {s for scores in points.values() for s in scores} - {AS_TRAINED}
    axes = sorted({axis_of(s) for s in found})
    cols = min(4, len(axes))
    rows = -(-len(axes) // cols)
    fig, grid = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False)
    for index, axis in enumerate(axes):
      ax = grid[index // cols][index % cols]
      for number, (rule, scores) in enumerate(points.items()):
        here = sorted((value_of(s), a) for s, a in scores.items() if axis_of(s) == axis)
        ax.plot(
          [v for v, _ in here],
          [a for _, a in here],
          marker="o",
          ms=3,
          label=rule,
          color=f"C{number % 10}",
        )
        if AS_TRAINED in scores:
          ax.axhline(scores[AS_TRAINED], color=f"C{number % 10}", lw=0.5, ls=":")
      ax.set_title(axis, fontsize=9)
      ax.set_ylim(0.5, 1.01)
      ax.grid(alpha=0.3)
    for index in range(len(axes), rows * cols):
      grid[index // cols][index % cols].axis("off")
    grid[0][0].legend(fontsize=6, loc="lower left")
    fig.supylabel("hidden-bit accuracy")
    fig.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


REFERENCE, TOLERANCE = "storkey_cued", 0.01  # the section's target (the config's defaults)


def section(context) -> list[str]:
  found = context.read("timing.jsonl", KIND)
  if not found:
    return []
  plot(found, context.plot_path("timing.png"))
  return [
    "## Timing indifference: one axis of the task at a time, away from the trained layout",
    "",
    f"![timing]({context.link('timing.png')})",
    "",
    *markdown(found, REFERENCE, TOLERANCE),
  ]


STUDY = Study(
  name="timing",
  run=run,
  section=section,
  validate=validate,
  summary=lambda found, config: markdown(found, config.reference, config.tolerance),
)
