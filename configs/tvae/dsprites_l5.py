r"""TVAE L=1/6 (shifted band over 5 frames, K=1) on dSprites sequences, 15 capsules x 15.

  python -m experiments.main --config=configs/tvae/dsprites_l5.py --workdir=runs/tvae_dsprites_l5

The reference's tvae/experiments/tvae_Lshort_dsprites.py: a (5, 5, 1) kernel, no off-diagonal.
"""

from configs.tvae import dsprites


def get_config():
  config = dsprites.get_config()
  config.model.time_window = 5  # L: 5 time offsets (-2..2), the capsule offset equal to each
  return config
