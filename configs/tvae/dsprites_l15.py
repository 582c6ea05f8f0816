r"""TVAE L=1/2 (shifted band over all 15 frames, K=1) on dSprites sequences, 15 capsules x 15.

  python -m experiments.main --config=configs/tvae/dsprites_l15.py --workdir=runs/tvae_dsprites_l15

The reference's tvae/experiments/tvae_Lhalf_dsprites.py: a (15, 15, 1) kernel, no off-diagonal.
The main topographic dSprites row of RESULTS_TVAE.md (with its time-shuffled control).
"""

from configs.tvae import dsprites


def get_config():
  config = dsprites.get_config()
  config.model.time_window = 15  # L: every frame of the sequence (-7..7, circular)
  return config
