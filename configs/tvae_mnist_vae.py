r"""Plain VAE baseline (t = z, no u encoder, no μ) on MNIST transformation sequences.

  python -m experiments.main --config=configs/tvae_mnist_vae.py --workdir=runs/tvae_mnist_vae

Its capsules are not equivariant: E_eq should sit near the chance level (~13.2k).
"""

import importlib.util
import os


def _base():
  """configs/tvae_mnist.py, the default every TVAE variant starts from."""
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tvae_mnist.py")
  spec = importlib.util.spec_from_file_location("tvae_mnist_base", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def get_config():
  config = _base()
  config.model.variant = "vae"  # no W: t = z
  return config
