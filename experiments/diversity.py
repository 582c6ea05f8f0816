r"""Do the hidden neurons of a layered net differ? Neuron-state diversity, and the majority floor.

  python -m experiments.diversity --rules=results/rules/layered_reset_s0 --k=4

For each committed rule (trained, and the same config untrained): at each recall item's scored
step, the variance of the neuron states across a group's neurons (same episode and cue) and
across the K cues (same neuron), from `learned_rules.probes.neuron_diversity`; and the
hidden-bit accuracy of answering every cue with the per-bit majority of the stored targets, which
a network reaches that ignores the cue (`probes.majority_answer_accuracy`).
"""

import jax
from absl import app, flags

from configs import committed_rule
from learned_rules import experiment, probes
from learned_rules.train import trainer

FLAGS = flags.FLAGS
flags.DEFINE_list("rules", ["results/rules/layered_reset_s0"], "Committed rule directories.")
flags.DEFINE_integer("k", 4, "Items per episode.")
flags.DEFINE_integer("episodes", 64, "Episodes for the diversity.")
flags.DEFINE_integer("majority_episodes", 512, "Episodes for the majority floor.")
flags.DEFINE_integer("seed", 0, "Seed of the episodes.")


def main(argv):
  del argv
  rows = []
  for rule_dir in FLAGS.rules:
    try:
      config = committed_rule.get_config(rule_dir)
    except ValueError as error:  # a missing or incompatible rule directory: one line, no trace
      raise SystemExit(f"--rules: {error}") from None
    exp = experiment.build(config)
    network = exp.model(config.rule.name)
    untrained = network.init_params(jax.random.PRNGKey(config.seed))
    trained = trainer.load_params(config.eval.params_file, untrained)
    rng = jax.random.PRNGKey(FLAGS.seed)
    for label, params in (("trained", trained), ("untrained", untrained)):
      report = probes.neuron_diversity(network, params, exp.task, rng, FLAGS.episodes, FLAGS.k)
      for group, values in report.items():
        rows.append((rule_dir, label, group, values["across_neurons"], values["across_cues"]))
    floor = probes.majority_answer_accuracy(exp.task, rng, FLAGS.majority_episodes, FLAGS.k)
    print(f"{rule_dir}: majority-of-stored-targets hidden-bit accuracy at K={FLAGS.k}: {floor:.4f}")
  print("| rule | params | group | var across neurons | var across cues |")
  print("|---|---|---|---|---|")
  for rule_dir, label, group, neurons, cues in rows:
    print(f"| {rule_dir} | {label} | {group} | {neurons:.4f} | {cues:.4f} |")


if __name__ == "__main__":
  app.run(main)
