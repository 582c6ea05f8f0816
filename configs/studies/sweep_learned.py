r"""Meta-trained rules next to each other: learned, frozen synapses, LSTM; transfer; ablations.

  python -m experiments.study --config=configs/studies/sweep_learned.py

Budgeted for a shared 2-core CPU: every rule is meta-trained at D = 16 (K in [2, 6], batch 32,
at most 1500 meta-steps and a wall-time cap per rule: 360 s for the main rules, 200 s for other
topologies, 110 s (at most 1000 steps) for ablations and state sizes), then evaluated without
retraining at loads alpha = K/D up to 0.5, at 2D, 4D and 8D and on other topologies. Expect a few
minutes per trained rule; the learned rule should hold 0.99 hidden-bit accuracy at several times
the Hebbian rule's K at D = 16 (RESULTS.md has what it reached). Each rule is meta-trained by the
one trainer (learned_rules/train/trainer.py) in runs/sweeps/learned/<hash>/, checkpointed every
50 steps: a killed sweep, rerun, resumes that rule from its last checkpoint.
"""

from configs.studies import sweep_common

LOADS = (0.0625, 0.125, 0.1875, 0.25, 0.3125, 0.375, 0.4375, 0.5)
MAIN = dict(train_size=16, train_k=(2, 6), train_steps=1500, train_max_seconds=360.0)
SHORT_LOADS = (0.0625, 0.125, 0.1875, 0.25, 0.375)
ABLATION = dict(train_size=16, train_k=(2, 6), train_steps=1000, train_max_seconds=110.0)
TOPOLOGY = dict(train_size=16, train_k=(2, 6), train_steps=1500, train_max_seconds=200.0)


def get_config():
  config = sweep_common.sweep_config("learned")
  config.probe_loads = (0.0625, 0.125, 0.375)  # K = 1, 2, 6 at D = 16: around frozen capacity
  config.groups.a_main = sweep_common.group(rules=("learned", "frozen"), loads=LOADS, **MAIN)
  config.groups.b_lstm = sweep_common.group(
    rules=("lstm",), variants=("lstm_match=params", "lstm_match=state"), loads=LOADS, **MAIN
  )
  config.groups.c_difficulty = sweep_common.group(
    rules=("learned",), loads=(0.125, 0.25, 0.375), hidden_fractions=(0.25, 0.75), **MAIN
  )
  config.groups.d_delay = sweep_common.group(
    rules=("learned",), loads=(0.125, 0.25, 0.375), delays=(0, 8), **MAIN
  )
  config.groups.e_transfer = sweep_common.group(
    rules=("learned",),
    sizes=(32, 64, 128),
    loads=(0.0625, 0.125, 0.25),
    max_k=16,
    **MAIN,
  )
  config.groups.e_transfer_topology = sweep_common.group(
    rules=("learned",), topologies=("sparse", "layered"), loads=(0.125, 0.25, 0.375), **MAIN
  )
  config.groups.f_ablations = sweep_common.group(
    rules=("learned",),
    variants=(
      "rule.use_embeddings=false",
      "rule.backward_messages=false",
      "rule.synapse_state_size=1",
      "aggregation=sum",
    ),
    loads=SHORT_LOADS,
    **ABLATION,
  )
  config.groups.g_topologies = sweep_common.group(
    rules=("learned",),
    train_topologies=("sparse", "layered"),
    topologies=("sparse", "layered"),
    loads=SHORT_LOADS,
    **TOPOLOGY,
  )
  config.groups.h_state_sizes = sweep_common.group(
    rules=("learned",),
    variants=(
      "rule.synapse_state_size=2",
      "rule.synapse_state_size=8",
      "rule.neuron_state_size=4",
      "rule.neuron_state_size=16",
    ),
    loads=SHORT_LOADS,
    **ABLATION,
  )
  return config
