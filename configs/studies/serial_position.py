r"""Recall by storage position: which stored patterns a rule loses, and whether the oldest go first
(a rule that forgets), every position alike (crosstalk) or the newest (a rule that stops writing).

  python -m experiments.study --config=configs/studies/serial_position.py
  python -m experiments.study --config=configs/studies/serial_position.py \
    --config.rules=storkey_cued,results/rules/n64_k40s32_s0 "--config.points=('256:60', '512:96')"

`points`: N:K pairs (K patterns in K slots, fully connected); the same episodes for every rule
at a given (N, K). Replaces the records of the (rule, N, K) it measures. About 1 min per rule at
N = 64 and 3-5 min at N = 256 on this 2-core CPU.
"""

from configs.studies import common


def get_config():
  config = common.study("serial_position", "results/serial_position.jsonl")
  config.rules = ("storkey_cued", *common.headline_rules())  # names or rule directories
  config.points = ("64:16", "256:40", "256:56")  # N:K pairs
  config.episodes = 64  # episodes per point
  return config
