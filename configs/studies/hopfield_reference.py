r"""A textbook numpy Hopfield net next to the engine's Hebbian rules on the same patterns and cues.

  python -m experiments.study --config=configs/studies/hopfield_reference.py

N = 32, 64, 128 and loads alpha = K / N in {0.1, 0.125, 0.15, 0.2, 0.25}, half of each cue
hidden, 128 episodes per point: a few minutes on this 2-core CPU. A recorded point is skipped.
"""

from configs.studies import common


def get_config():
  config = common.study("hopfield_reference", "results/hopfield_reference.jsonl")
  config.sizes = (32, 64, 128)  # N: neurons = bits
  config.loads = (0.1, 0.125, 0.15, 0.2, 0.25)  # alpha = K / N
  config.hidden_fraction = 0.5  # c: fraction of each cue's bits hidden
  config.episodes = 128  # episodes per point (rounded up to whole batches)
  config.batch_size = 64  # episodes per batch
  config.max_iterations = 50  # numpy recall: most synchronous updates per cue
  return config
