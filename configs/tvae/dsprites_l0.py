r"""TVAE L=0 (capsule band K=3 within the frame, ε = 1e-3) on dSprites sequences, 15 x 15.

  python -m experiments.main --config=configs/tvae/dsprites_l0.py --workdir=runs/tvae_dsprites_l0

The reference's tvae/experiments/tvae_L0_dsprites.py: a (1, 3, 1) stationary kernel and
eps=1e-3. Topographic but no temporal coherence: CapCorr well below the shifted TVAE's.
"""

from configs.tvae import dsprites


def get_config():
  config = dsprites.get_config()
  config.model.variant = "tvae"  # one frame: the stationary capsule band
  config.model.time_window = 1  # L = 0: no pooling over time
  config.model.cap_window = 3  # K = 3: capsule offsets -1..1
  config.model.epsilon = 1e-3  # the reference's dSprites L=0 grouper uses eps=1e-3, not 1e-6
  return config
