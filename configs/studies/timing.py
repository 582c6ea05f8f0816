r"""Timing indifference: every rule scored across the remember task's timing and difficulty axes,
one axis at a time away from the trained layout, next to the cue-weighted rules on the same
episodes.

  python -m experiments.study --config=configs/studies/timing.py

The grid (our choice, fixed before it ran): each axis from the smallest value the task allows
(or that a rule could need) to well past the trained one, the trained value included; delay
0-64 steps (the trained 2 to 32x it), cue fraction hidden 0.125-0.75, store and recall steps
1-8, gap 0-8, repetitions 1-3, and the episode's slots K to 4K around K = 16 patterns (blank
slots first, a longer quiet start). N = 64, K = 16: the headline rules' training size, below
every rule's capacity there, so a drop is the setting's, not the load's. About 25 min on this
2-core CPU for six rules.
"""

from configs.studies import common


def get_config():
  config = common.study("timing", "results/timing.jsonl")
  config.rules = ("storkey_cued", "hebbian_cued", "delta_cued", *common.headline_rules())
  config.n = 64  # neurons (fully connected, auto mode)
  config.k = 16  # patterns stored per episode
  config.axes = (  # 'task.key=v1 v2 ...': one axis at a time, the rest as trained
    "task.delay_steps=0 1 2 5 10 20 40 64",
    "task.hidden_fraction=0.125 0.25 0.375 0.5 0.625 0.75",
    "task.store_steps=1 2 3 4 6 8",
    "task.recall_steps=1 2 3 4 6 8",
    "task.gap_steps=0 1 2 4 8",
    "task.repetitions=1 2 3",
    "task.k_max=16 24 32 64",
  )
  config.episodes = 256  # episodes per (rule, setting)
  config.eval_batch_size = 128  # episodes per evaluation batch
  config.reference = "storkey_cued"  # the rule every other is held against
  config.tolerance = 0.01  # a drop below a rule's own accuracy as trained that counts
  return config
