r"""Hand-written rules (Hebbian, Storkey, delta): recall versus load, size, topology, cue, delay.

  python -m experiments.study --config=configs/studies/sweep_handwritten.py

No meta-training: each point is one evaluation (about 1-5 s on a shared 2-core CPU; the whole
sweep roughly 30-45 minutes). Gives K*(D) curves for D in {16, 32, 64, 128} (fully connected;
sparse at 32, 64) against the spec's reference capacities, and the cue-fraction and delay
difficulty axes at D = 32. Groups g_cued and h_cued_sparse repeat the capacity grid with the
cue-weighted rules hebbian_cued, storkey_cued, delta_cued of `rules/cue_weighted.py` (free
neurons' messages scaled by rule.free_weight = 0.25), which removes the plain rules' mixed fixed
point at cue onset. (Records written before those rules were registered spell them as the plain
rule with the variant 'rule.free_weight=0.25'; the sweep counts them as done.) Groups i-m add,
for all six rules, the points of configs/sweep_learned.py that a-h miss (D = 16 up to K = 8,
its cue and delay axes, sparse and layered D = 16, the transfer sizes' K), so every learned-rule
point has every hand-written baseline on the same episodes.
"""

from configs.studies import sweep_common

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
  cued = ("hebbian_cued", "storkey_cued", "delta_cued")
  config.groups.g_cued = sweep_common.group(rules=cued, sizes=(16, 32, 64, 128), loads=LOADS)
  config.groups.h_cued_sparse = sweep_common.group(
    rules=cued, topologies=("sparse",), sizes=(32, 64), loads=LOADS
  )
  # Groups i-m: every point the learned sweep (configs/sweep_learned.py) evaluates that groups
  # a-h miss, for all six rules, so each learned-rule point has every hand-written baseline on
  # the same episodes (same seed, layout, cue, delay and episode count). Loads are chosen to hit
  # only those K: a point of another group is not rerun.
  both = rules + cued
  config.groups.i_learned_loads = sweep_common.group(rules=both, loads=(0.4375, 0.5))  # K 7, 8
  learned_ks = (0.125, 0.25, 0.375)  # K = 2, 4, 6 at D = 16
  config.groups.j_learned_cue = sweep_common.group(
    rules=both, loads=learned_ks, hidden_fractions=(0.25, 0.75)
  )
  config.groups.j_learned_delay = sweep_common.group(rules=both, loads=learned_ks, delays=(0, 8))
  config.groups.k_transfer_32 = sweep_common.group(rules=both, sizes=(32,), loads=(0.25,))
  config.groups.k_transfer_64 = sweep_common.group(
    rules=both, sizes=(64,), loads=(0.0625, 0.125, 0.25)
  )
  config.groups.k_transfer_128 = sweep_common.group(rules=both, sizes=(128,), loads=(0.0625, 0.125))
  short_loads = (0.0625, 0.125, 0.1875, 0.25, 0.375)  # K = 1, 2, 3, 4, 6 at D = 16
  config.groups.l_sparse_16 = sweep_common.group(
    rules=both, topologies=("sparse",), loads=short_loads
  )
  config.groups.m_layered_16 = sweep_common.group(
    rules=rules, topologies=("layered",), loads=(0.0625, 0.1875, 0.375)
  )
  config.groups.m_layered_16_cued = sweep_common.group(
    rules=cued, topologies=("layered",), loads=short_loads
  )
  return config
