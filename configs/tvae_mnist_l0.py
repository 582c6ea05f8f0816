r"""TVAE L=0: capsule band only within one frame (K=3), on MNIST sequences.

  python -m experiments.main --config=configs/tvae_mnist_l0.py --workdir=runs/tvae_mnist_l0

Topographic but no temporal coherence: E_eq near the VAE chance level.
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
  config.model.variant = "tvae"  # shifted band, degenerate with one frame
  config.model.time_window = 1  # only d = 0: no pooling over time
  return config
