r"""TVAE L=1/2: shifted band over all 18 frames (K=3), on MNIST sequences.

  python -m experiments.main --config=configs/tvae_mnist_l18.py --workdir=runs/tvae_mnist_l18

Full shifted coherence over the sequence: E_eq far below chance.
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
  config.model.time_window = 18  # every frame of the sequence (circular)
  return config
