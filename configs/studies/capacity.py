r"""Capacity K*(N) at hidden-bit accuracy 0.99, searched per rule and size, fully connected.

  python -m experiments.study --config=configs/studies/capacity.py
  python -m experiments.study --config=configs/studies/capacity.py \
    --config.rules=storkey_cued,results/rules/n64_k40s32_s0 "--config.sizes=(64,)" \
    --config.layouts=exact,trained "--config.scan=(1, 2, 4, 8, 16, 24)"

For every rule and N, K doubles from 1 until the accuracy drops below the threshold, then
bisects; every rule sees the same episodes at a given (N, K). Rules: the hand-written ones and
the headline rule's three seeds (results/rules/HEADLINE), or any names and rule directories
(run at every N with the same parameters). Each point is a record, so a rerun skips what is
done: recorded points cost nothing. A new rule costs 2-5 min per N up to 128 and 2-3 min at
N = 256 on this 2-core CPU.
"""

from configs.studies import common


def get_config():
  config = common.study("capacity", "results/capacity.jsonl")
  config.rules = common.HANDWRITTEN + common.headline_rules()  # names or rule directories
  config.sizes = (16, 32, 64, 128, 256)  # N: neurons = pattern bits (fully connected)
  config.layouts = ("exact",)  # exact (K slots) and/or trained (the rule's training slots)
  config.threshold = 0.99  # the hidden-bit accuracy criterion of K*
  config.max_load = 0.6  # the largest K searched, as a fraction of N
  config.eval_hidden_bits = 16384  # scored hidden bits aimed for per point
  config.min_episodes = 16  # fewest episodes per point
  config.max_episodes = 256  # most episodes per point
  config.batch_size = 64  # episodes per evaluation batch
  config.seed = 20261125  # the evaluation episodes' seed (the same for every rule)
  config.scan = ()  # loads K also evaluated at every rule, N and layout (printed as a table)
  return config
