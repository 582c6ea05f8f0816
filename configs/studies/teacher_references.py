r"""Textbook references on the teacher task's own episodes: numpy Hebb perceptron, pseudo-inverse
and delta rule (raw keys, and over random features on the layered net), the Hebb perceptron's
closed form, numpy's own teacher episodes, beside the engine's hand-written rules.

  python -m experiments.study --config=configs/studies/teacher_references.py

About 10 min on this 2-core CPU for the hand-written and numpy rows (both networks, both teachers,
K = 4, 8, 16, 32, 256 episodes) and about 2 min more per saved learned rule.
"""

import os

from configs.studies import common


def get_config():
  config = common.study("teacher_references", "results/teacher_references.jsonl")
  config.networks = ("fully_connected", "layered")  # networks measured
  config.teachers = ("linear", "two_layer")  # teachers evaluated on
  config.eval_ks = (4, 8, 16, 32)  # pairs stored per evaluation episode
  config.eval_episodes = 256  # per (learner, K), the engine's evaluation stream
  config.eval_batch_size = 128  # episodes per evaluation batch
  config.backprop_rates = (0.01, 0.04, 0.1)  # the best per K is reported ('best of')
  config.feature_seed = 0  # numpy seed of the random features and of numpy's own episodes
  config.wide_features = 512  # width of the wide random layer of the numpy Hebb reference
  config.large_d = 512  # bits of the large-D textbook episodes (K scaled to the same a = K / D)
  config.large_d_episodes = 16  # large-D textbook episodes per K (64 unseen keys each)
  # 'network:label=rule_dir': saved learned rules evaluated as they are, here the rules meta-trained
  # only on remembering random patterns (no teacher): the headline and default rules (auto-
  # association, fully connected) and the layered rules from the hand-set start (taught pairs).
  config.committed = tuple(
    [f"fully_connected:{os.path.basename(rule)}={rule}" for rule in common.headline_rules()]
    + [
      f"fully_connected:default_lr4e3_s{seed}=results/rules/default_lr4e3_s{seed}"
      for seed in range(3)
    ]
    + ["fully_connected:n64_untrained_s0=results/rules/n64_untrained_s0"]  # their untrained start
    # trained on hetero pairs [x, y] (cue x), without and with cue noise: a contrast
    + [
      f"fully_connected:hetero_{n}=results/rules/hetero_{n}"
      for n in ("fc_clean_s0", "fc_noise04_s0")
    ]
    + [f"layered:layered_warm_s{seed}=results/rules/layered_warm_s{seed}" for seed in range(3)]
    + ["layered:layered_hebbian_start=results/rules/layered_hebbian_start"]  # their start
  )
  config.overrides = ()  # 'key=value' overrides of every config (e.g. tiny sizes)
  return config
