r"""TVAE L=10/30 (shifted band over 10 frames, K=1) on dSprites sequences, 15 capsules x 15.

  python -m experiments.main --config=configs/tvae/dsprites.py --workdir=runs/tvae_dsprites

Procedural dSprites-like images by default (--config.data.dataset=dsprites reads the real npz
from data_dir). Both use the reference's grid: npz orientation and position indices 0:30:2,
scale indices 1..5 (data.DSPRITES_NPZ_INDICES). CapCorr, computed as the reference's
get_cap_offsets does, should approach 1.0 for every factor.
"""

from configs.tvae import mnist


def get_config():
  config = mnist.get_config()
  config.data.dataset = "dsprites_procedural"  # rendered on the factor grid, no download
  config.data.data_dir = "data/dsprites"  # where the real dSprites npz would be
  config.data.channels = 1  # dSprites frames are one grey channel
  config.data.seq_len = 15  # one step of the moving factor per frame
  config.model.n_caps = 15  # capsules
  config.model.cap_dim = 15  # units per capsule (D = 225)
  config.model.time_window = 10  # L: 10 time offsets (-4..5)
  config.model.cap_window = 1  # K = 1: exactly the shifted diagonal
  config.eval_size = 2000  # test sequences from random grid points
  return config
