r"""The per-synapse control: the default recipe with one number per synapse, three seeds.

  python -m experiments.study --config=configs/studies/synapse_state.py
  python -m experiments.study --config=configs/studies/capacity.py \
    --config.rules=results/rules/default_dw1_s0,results/rules/default_dw1_s1,results/rules/default_dw1_s2

The learned rule keeps `rule.synapse_state_size` = 4 numbers per synapse, the hand-written rules
one weight, so part of its lead in K* may be memory rather than a better write. This trains the
default run (configs/remember.py: N = 32, K = 4..8, 3000 steps; `results/rules/default_lr4e3_s*`
is the same command with four numbers) with `rule.synapse_state_size=1`, one stage per seed,
through the resumable trainer (runs/synapse_state/default_dw1_s<seed>/default); the rules land in
results/rules/default_dw1_s<seed>, and the capacity study (second command) puts their K*(N) and
bits per state number beside every other rule's. It is the default recipe's control, not the
headline recipe's (that one takes 2-2.7 h per seed here).
"""

import ml_collections

from configs.studies import common


def get_config():
  config = common.study("headline", "results/synapse_state.jsonl")
  config.base = "remember"  # the default run
  config.prefix = "default_dw1"  # rules are <rules_dir>/<prefix>_s<seed>
  config.seeds = (0, 1, 2)
  config.root = "runs/synapse_state"  # training workdirs: <root>/<prefix>_s<seed>/<stage>
  config.rules_dir = "results/rules"
  config.stage_order = ("default",)
  config.stages = ml_collections.ConfigDict()
  config.stages.default = ml_collections.ConfigDict()
  config.stages.default.overrides = ("rule.synapse_state_size=1",)  # one number per synapse
  return config
