r"""Hand-written rules (Hebbian, Storkey, delta): recall versus load, size, topology, cue, delay.

  nice -n 5 python -m experiments.sweep --config=configs/sweep_handwritten.py
  python -m experiments.results

No meta-training: each point is one evaluation (about 1-5 s on a shared 2-core CPU; the whole
sweep roughly 20-30 minutes). Gives K*(D) curves for D in {16, 32, 64, 128} (fully connected;
sparse at 32, 64) against the spec's reference capacities, and the cue-fraction and delay
difficulty axes at D = 32; and at D = 32 with 8 instead of 3 recall steps per cue (group
f_recall_steps), to separate storage from the recall dynamics.
"""

from configs import sweep_common

LOADS = (0.03, 0.05, 0.08, 0.11, 0.14, 0.18, 0.23, 0.3, 0.4)


def get_config():
  config = sweep_common.sweep_config("handwritten")
  rules = ("hebbian", "storkey", "delta")
  config.groups.a_capacity = sweep_common.group(rules=rules, sizes=(16, 32, 64, 128), loads=LOADS)
  config.groups.b_sparse = sweep_common.group(
    rules=rules, topologies=("sparse",), sizes=(32, 64), loads=LOADS
  )
  config.groups.c_layered = sweep_common.group(
    rules=rules, topologies=("layered",), sizes=(16,), loads=(0.125, 0.25)
  )
  config.groups.d_cue = sweep_common.group(
    rules=rules, sizes=(32,), loads=(0.06, 0.125), hidden_fractions=(0.25, 0.75)
  )
  config.groups.e_delay = sweep_common.group(
    rules=rules, sizes=(32,), loads=(0.06, 0.125), delays=(0, 16)
  )
  config.groups.f_recall_steps = sweep_common.group(
    rules=rules, variants=("task.recall_steps=8",), sizes=(32,), loads=LOADS
  )
  return config
