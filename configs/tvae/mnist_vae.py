r"""Plain VAE baseline (t = z, no u encoder, no μ) on MNIST transformation sequences.

  python -m experiments.main --config=configs/tvae/mnist_vae.py --workdir=runs/tvae_mnist_vae

Its capsules are not equivariant: E_eq should sit near the chance level (~13.2k).
"""

from configs.tvae import mnist


def get_config():
  config = mnist.get_config()
  config.model.variant = "vae"  # no W: t = z
  return config
