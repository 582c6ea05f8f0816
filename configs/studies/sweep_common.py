"""Shared pieces of the sweep configs: the top level and a group.

Run by the `sweep` study (learned_rules/studies/sweep.py); the points of a group are
`learned_rules.studies.sweep_grid.points`.
"""

import ml_collections

from configs.studies import common


def sweep_config(name: str):
  config = common.study("sweep", f"results/{name}.jsonl")
  config.name = name  # sweep name (records file and RESULTS.md sections)
  config.params_dir = "results/params"  # meta-trained parameters, one file per trained rule
  config.work_dir = f"runs/sweeps/{name}"  # one meta-training workdir per rule (checkpoints)
  config.log_every = 50  # meta-steps between logged training metrics (the records' history)
  config.checkpoint_every = 50  # meta-steps between checkpoints of a rule being trained
  config.max_points = 0  # run at most this many new points (0 = all): budget in slices
  config.eval_hidden_bits = 16384  # aim for this many scored hidden bits per point
  config.eval_min_episodes = 16  # fewest evaluation episodes per point
  config.eval_max_episodes = 256  # most evaluation episodes per point
  config.eval_batch_size = 64  # episodes per evaluation batch
  config.probe_loads = (0.125, 0.375)  # alpha = K/D where the probe runs (default c and Q only)
  config.probe_max_size = 32  # probe only networks with D <= this
  config.probe_episodes = 64  # episodes per probe condition
  config.layered_hidden_ratio = 1.0  # layered: hidden layer size = ratio * D
  config.sparse_fan_in_ratio = 0.25  # sparse: fan-in = max(2, round(ratio * D))
  config.groups = ml_collections.ConfigDict()  # name -> group(), filled by each sweep
  return config


def group(**values):
  g = ml_collections.ConfigDict()
  g.rules = ("hebbian",)  # rules evaluated (those with meta-parameters are meta-trained first)
  g.variants = ("",)  # remember-config overrides, 'rule.synapse_state_size=1,aggregation=sum'
  g.topologies = ("fully_connected",)  # topologies evaluated on
  g.sizes = (16,)  # D: visible bits
  g.loads = (0.125,)  # alpha = K / D (K rounded, at least 1)
  g.max_k = 1_000  # skip points with more patterns than this
  g.hidden_fractions = (0.5,)  # c: fraction of cue bits hidden
  g.delays = (2,)  # Q: blank steps between store and recall
  g.layout_k = 6  # episodes laid out on max(K, layout_k) slots (blank first), same for all rules
  g.train_topologies = ("fully_connected",)  # meta-trained rules: topology trained on
  g.train_size = 16  # meta-trained rules: D trained at
  g.train_k = (2, 6)  # meta-trained rules: K range of training episodes
  g.train_steps = 1500  # meta-trained rules: meta-steps
  g.train_batch_size = 32  # meta-trained rules: episodes per meta-step
  g.train_learning_rate = 2e-3  # meta-trained rules: peak Adam learning rate
  g.train_max_seconds = 600.0  # meta-trained rules: stop training after this wall time
  g.seed = 0  # meta-trained rules: meta-parameter init and training stream
  unknown = sorted(set(values) - set(g.keys()))
  if unknown:
    raise KeyError(f"sweep group: unknown keys {unknown}; expected some of {sorted(g.keys())}.")
  for key, value in values.items():
    g[key] = value
  return g
