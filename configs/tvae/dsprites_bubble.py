r"""BubbleVAE on dSprites sequences: stationary W window, time -2..2 x capsule -2..2, no shift.

  python -m experiments.main --config=configs/tvae/dsprites_bubble.py \
    --workdir=runs/tvae_dsprites_bubble

The reference's tvae/experiments/bubbles_dsprites.py (k_time = k_space = 5). Temporal coherence
without the shift: CapCorr below the shifted TVAE's.
"""

from configs.tvae import dsprites


def get_config():
  config = dsprites.get_config()
  config.model.variant = "bubble"  # all-ones window over time and capsule position
  config.model.time_window = 5  # time offsets -2..2
  config.model.cap_window = 5  # capsule offsets -2..2
  return config
