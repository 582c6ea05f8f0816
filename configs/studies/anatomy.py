r"""What a rule learned: its storage update by pre/post activity, beside Hebbian and Storkey, and
where its memory lives (a memory-location probe at several loads).

  python -m experiments.study --config=configs/studies/anatomy.py
  python -m experiments.study --config=configs/studies/anatomy.py \
    --config.rules=hebbian,storkey,results/rules/n64_k40s32_s0 --config.n=64 --config.k=16 \
    "--config.probe_loads=(1, 4, 16, 24, 32)"

A committed rule followed by '@key=value;...' runs with those overrides (an ablation, e.g.
results/rules/n64_k40s32_s0@rule.frozen_synapse_components=3). Replaces the records of the rules
it measures. About 3 min per rule at N = 32 and 11 min at N = 64 on this 2-core CPU.
"""

from configs.studies import common


def get_config():
  config = common.study("anatomy", "results/rule_anatomy.jsonl")
  config.rules = ("hebbian", "storkey", common.headline_rules()[0])  # names or rule directories
  config.n = 64  # neurons (fully connected, auto-association)
  config.k = 16  # patterns stored for the update measurement
  config.probe_loads = (1, 4, 16, 24, 32)  # loads K of the memory-location probe
  config.episodes = 64  # episodes per measurement
  return config
