r"""Textbook references on the teacher task's own episodes: numpy Hebb perceptron, pseudo-inverse
and delta rule (raw keys, and over random features on the layered net), the Hebb perceptron's
closed form, numpy's own teacher episodes, beside the engine's hand-written rules.

  python -m experiments.study --config=configs/studies/teacher_references.py

About 15 min on this 2-core CPU (both networks, both teachers, K = 4, 8, 16, 32, 256 episodes).
"""

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
  config.committed = ()  # 'network:label=rule_dir': saved learned rules evaluated as they are
  config.overrides = ()  # 'key=value' overrides of every config (e.g. tiny sizes)
  return config
