"""The evaluation report: the trained rule, the hand-written baselines and the task's references
on the same held-out episodes, as eval.json, TensorBoard scalars and a console table."""

import numbers
import os

import jax

from learned_rules import evaluation, experiment, probes
from learned_rules.common import writers
from learned_rules.dynamics import Network

EVAL_SEED_OFFSET = 10_000  # evaluation episodes never overlap the training stream's seeds


def evaluate_all(config, exp, learned_params) -> dict:
  """The trained model, hand-written baselines and the oracle on the same held-out episodes."""
  task, k = experiment.eval_layout(config, exp.task)
  ev = config.eval
  common = dict(
    seed=config.seed + EVAL_SEED_OFFSET,
    num_episodes=ev.num_episodes,
    batch_size=ev.batch_size,
    num_patterns=k,
  )
  results = {}
  for name, rule_name, params in [("learned", config.rule.name, learned_params)] + [
    (b, b, None) for b in ev.baselines
  ]:
    model = exp.model(rule_name)
    if params is None:  # hand-written rules: their parameters are fixed, not trained
      params = model.init_params(jax.random.PRNGKey(0))
    results[name] = evaluation.evaluate(
      model,
      params,
      task,
      num_synapses=exp.synapses(rule_name),
      num_state_floats=exp.state_floats(rule_name),
      **common,
    )
    if ev.get("probe") and isinstance(model, Network):
      results[name]["probe"] = probes.memory_location(
        model, params, task, common["seed"], ev.num_episodes, ev.batch_size, k
      )
  for reference in task.references():
    results[reference] = evaluation.evaluate(None, None, task, reference=reference, **common)
  return {
    "task": {
      **config.task.to_dict(),
      "eval_k": k,
      "eval_slots": task.load_range[1],
      "num_episodes": ev.num_episodes,
      "topology": config.topology.name,
      "num_neurons": exp.topology.num_neurons,
      "num_synapses": exp.topology.num_synapses,
      "episode_steps": task.length,
    },
    "rules": results,
  }


REPORT_COLUMNS = (
  "hidden_bit_accuracy",
  "bit_accuracy",
  "perfect_recall_fraction",
  "information_bits",
  "bits_per_synapse",
)


def format_table(report: dict, description: str | None = None) -> str:
  """The console table of a report; `description` is the task's one-line header."""
  task = report["task"]
  description = description or f"{task['name']} K={task['eval_k']}"
  lines = [
    f"eval: {description} N={task['num_neurons']} {task['topology']} "
    f"synapses={task['num_synapses']} episodes={task['num_episodes']}",
    f"{'rule':<10}" + "".join(f"{c:>24}" for c in REPORT_COLUMNS),
  ]
  for name, values in report["rules"].items():
    cells = [
      f"{values[c]:>24.4f}" if values[c] is not None else f"{'-':>24}" for c in REPORT_COLUMNS
    ]
    lines.append(f"{name:<10}" + "".join(cells))
  for name, values in report["rules"].items():
    if "probe" in values:
      lines.append(probe_line(name, values["probe"]))
  return "\n".join(lines)


def probe_line(name: str, probe: dict) -> str:
  """'probe learned: in synapses 0.98, in neurons 0.01; lost when reset: input->hidden0 0.40'."""
  fmt = lambda v: "-" if v is None else f"{v:.2f}"
  text = (
    f"probe {name}: information left with neurons reset {fmt(probe['synapse_fraction'])}, "
    f"with synapses reset {fmt(probe['neuron_fraction'])}"
  )
  if probe.get("layers"):
    text += "; lost when one synapse layer is reset: " + ", ".join(
      f"{layer['layer']} {fmt(layer['information_lost_fraction'])}" for layer in probe["layers"]
    )
  return text


def _numbers(values: dict, prefix: str = "") -> dict:
  """The numbers of a (nested: the probe's) report entry, keys joined by '/'; None dropped."""
  out = {}
  for key, value in values.items():
    if isinstance(value, dict):
      out |= _numbers(value, f"{prefix}{key}/")
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
      out[f"{prefix}{key}"] = value
  return out


def write_report(config, workdir, exp, params, writer=None, step=0, extra=None) -> dict:
  """Evaluates, logs to `writer`, writes eval.json (or eval.output) and prints the table.

  `extra`: entries added to the report (where its parameters came from).
  """
  report = evaluate_all(config, exp, params) | dict(extra or {})
  if jax.process_index() == 0:
    if writer is not None:
      for rule, values in report["rules"].items():
        writer.scalars(step, _numbers(values), prefix=f"eval/{rule}/")
    writers.write_json(os.path.join(workdir, config.eval.output or "eval.json"), report)
  task, k = experiment.eval_layout(config, exp.task)
  description = task.describe().replace(f"K={task.load_range[1]}", f"K={k}")
  if task.load_range[1] != k:
    description += f" on {task.load_range[1]} slots (blank slots {config.task.blank_slots})"
  print(format_table(report, description), flush=True)
  return report
