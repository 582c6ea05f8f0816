r"""Plain VAE (t = z, no u encoder, no μ) on dSprites sequences, 15 capsules x 15.

  python -m experiments.main --config=configs/tvae/dsprites_vae.py --workdir=runs/tvae_dsprites_vae

The reference's tvae/experiments/nontvae_dsprites.py. No topography: CapCorr near its chance
level (about 0.1-0.2 on x, y and orientation with the reference's procedure).
"""

from configs.tvae import dsprites


def get_config():
  config = dsprites.get_config()
  config.model.variant = "vae"  # no W: t = z
  return config
