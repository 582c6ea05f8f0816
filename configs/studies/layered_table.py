r"""Layered hetero-association, rule x K: saved learned rules beside backprop, delta_features, the
oracle and the majority floor on the same episodes.

  python -m experiments.study --config=configs/studies/layered_table.py
  python -m experiments.study --config=configs/studies/layered_table.py \
    "--config.rules=('warm=results/rules/layered_warm_s0', 'results/rules/layered_warm_s1')"

`rules`: 'label=rule_dir' entries; an entry that is only a rule_dir is one more seed of the label
before it. Points already recorded are skipped; a new rule costs about a minute per K here.
"""

from configs.studies import common


def get_config():
  config = common.study("layered_table", "results/layered_table.jsonl")
  config.rules = (
    "learned_warm=results/rules/layered_warm_s0",
    "results/rules/layered_warm_s1",
    "results/rules/layered_warm_s2",
    "hebbian_start=results/rules/layered_hebbian_start",
  )  # saved learned rules: 'label=rule_dir', then more rule_dirs of that label
  config.eval_ks = (2, 4, 6, 8, 12)  # pairs stored per evaluation episode
  config.eval_episodes = 512  # held-out episodes per rule and K
  config.eval_batch_size = 128  # episodes per evaluation batch
  config.backprop_rates = (0.01, 0.04, 0.1)  # backprop learning rates (the best per K kept)
  config.overrides = ()  # 'key=value' overrides of the task config (e.g. tiny sizes)
  return config
