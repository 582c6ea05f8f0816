"""Do the hidden neurons of a layered net differ? Neuron-state diversity, and the majority floor.

For each committed rule, trained and the same config untrained: at each recall item's scored
step, the variance of the neuron states across a group's neurons (same episode and cue) and
across the K cues (same neuron), from `probes.neuron_diversity`; and the hidden-bit accuracy of
answering every cue with the per-bit majority of the stored targets, which a network that
ignores the cue reaches (`probes.majority_answer_accuracy`). One record per (rule, params,
group), replaced when the rule is measured again.
"""

import time

import jax

from learned_rules import experiment, probes
from learned_rules.common import records as records_io
from learned_rules.studies import style
from learned_rules.studies.base import Study
from learned_rules.train import params_io, saved_rules

KIND = "neuron_diversity"


def validate(config) -> None:
  for rule_dir in config.rules:
    saved_rules.load(rule_dir, config.bases, f"rules: {rule_dir!r}")


def run(config) -> list:
  out = []
  for rule_dir in config.rules:
    start = time.time()
    rule_config = saved_rules.load(rule_dir, config.bases, f"rules: {rule_dir!r}")
    exp = experiment.build(rule_config)
    network = exp.model(rule_config.rule.name)
    untrained = network.init_params(jax.random.PRNGKey(rule_config.seed))
    trained = params_io.load_params(rule_config.eval.params_file, untrained)
    rng = jax.random.PRNGKey(config.seed)
    floor = probes.majority_answer_accuracy(exp.task, rng, config.majority_episodes, config.k)
    for label, params in (("trained", trained), ("untrained", untrained)):
      found = probes.neuron_diversity(network, params, exp.task, rng, config.episodes, config.k)
      for group, values in found.items():
        out.append(
          {
            "kind": KIND,
            "rule": style.rule_label(rule_dir),
            "params": label,
            "group": group,
            "k": config.k,
            "across_neurons": float(values["across_neurons"]),
            "across_cues": float(values["across_cues"]),
            "majority_floor": floor,
            "episodes": config.episodes,
            "wall_s": time.time() - start,
            "machine": records_io.machine_description(config.machine),
            "command": records_io.command_line(),
          }
        )
  rules = {r["rule"] for r in out}
  records_io.replace(config.records, out, lambda old, new: old["rule"] in rules)
  return out


def markdown(found: list) -> list[str]:
  lines = [
    "## Do the hidden neurons differ? Neuron-state diversity of layered rules",
    "",
    "Variance of the neuron states across a group's neurons (same episode and cue) and across "
    "the K cues (same neuron) at each recall item's scored step, trained next to the same "
    "config untrained; the floor is the hidden-bit accuracy of answering every cue with the "
    "per-bit majority of the stored targets (`python -m experiments.study "
    "--config=configs/studies/diversity.py`).",
    "",
    "| rule | K | params | group | var across neurons | var across cues | majority floor |",
    "|---|---|---|---|---|---|---|",
  ]
  for r in found:
    lines.append(
      f"| {r['rule']} | {r['k']} | {r['params']} | {r['group']} | {r['across_neurons']:.4f} | "
      f"{r['across_cues']:.4f} | {r['majority_floor']:.4f} |"
    )
  machines = sorted({r["machine"] for r in found})
  return lines + ["", f"{len(found)} records on {', '.join(machines)}.", ""]


def section(context) -> list[str]:
  found = context.read("diversity.jsonl", KIND)
  return markdown(found) if found else []


STUDY = Study(
  name="diversity",
  run=run,
  section=section,
  validate=validate,
  summary=lambda found, config: markdown(found),
)
