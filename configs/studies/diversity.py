r"""Do the hidden neurons of a layered net differ? Neuron-state diversity, trained and untrained,
and the majority-answer floor.

  python -m experiments.study --config=configs/studies/diversity.py
  python -m experiments.study --config=configs/studies/diversity.py \
    --config.rules=results/rules/layered_warm_s0 --config.k=8

About a minute per rule on this 2-core CPU.
"""

from configs.studies import common


def get_config():
  config = common.study("diversity", "results/diversity.jsonl")
  config.rules = ("results/rules/layered_warm_s0",)  # committed layered rule directories
  config.k = 4  # items per episode
  config.episodes = 64  # episodes for the diversity
  config.majority_episodes = 512  # episodes for the majority floor
  config.seed = 0  # seed of the episodes
  return config
