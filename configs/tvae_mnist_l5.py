r"""TVAE L=5/36: shifted band over 5 frames (K=3), on MNIST sequences.

  python -m experiments.main --config=configs/tvae_mnist_l5.py --workdir=runs/tvae_mnist_l5

Partial shifted coherence: E_eq well below chance, above L=13/36.
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
  config.model.time_window = 5  # time offsets -2..2, capsule band shifted with them
  return config
