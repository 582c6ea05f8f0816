r"""How a layered rule's storage updates relate to the delta rule and to back-propagation, per
synapse layer, each reference computed on the state the rule is in just before a pair.

  python -m experiments.study --config=configs/studies/update_alignment.py
  python -m experiments.study --config=configs/studies/update_alignment.py \
    --config.rules=results/rules/layered_warm_s0 "--config.ks=(4,)"

`rules`: committed layered rule directories (their weight read from the bilinear gate on
`carrier_units`) or the engine's `backprop` and `delta_features`, which the harness must find
matching their own references. Rules meta-trained from a random init (`layered_scratch_reset_*`)
have no weight-carrying unit: read their rows through the answer (the study's last table). A
rule already recorded with the same settings is skipped. The whole default list takes about 4
minutes on a 2-core CPU.
"""

from configs.studies import common


def get_config():
  config = common.study("update_alignment", "results/update_alignment.jsonl")
  config.rules = (
    "results/rules/layered_warm_s0",
    "results/rules/layered_warm_s1",
    "results/rules/layered_warm_s2",
    "results/rules/layered_hebbian_start",
    "results/rules/layered_warm_random_init_s0",
    "results/rules/layered_scratch_reset_short_s0",
    "results/rules/layered_scratch_reset_s0",
    "results/rules/layered_scratch_reset_s1",
    "results/rules/layered_scratch_reset_s2",
    "backprop",
    "delta_features",
  )  # committed layered rule directories, or the engine rules 'backprop' / 'delta_features'
  config.ks = (4, 8)  # pairs stored per episode (K pairs in K slots)
  config.episodes = 64  # episodes per rule and K (the same episodes for every rule)
  config.seed = 0  # seed of the episodes and the synapse-state draws
  config.carrier_units = (0, 1)  # synapse-network units whose gate is each layer's weight
  config.overrides = ()  # 'key=value' overrides of the layered task config (e.g. tiny sizes)
  return config
