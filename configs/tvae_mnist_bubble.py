r"""BubbleVAE: stationary W window (time -2..2 x capsule -1..1), no shift, on MNIST sequences.

  python -m experiments.main --config=configs/tvae_mnist_bubble.py --workdir=runs/tvae_mnist_bubble

Temporal coherence without the shift: E_eq below the VAE but above the shifted TVAE.
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
  config.model.variant = "bubble"  # all-ones window over time and capsule position
  config.model.time_window = 5  # time offsets -2..2
  config.model.cap_window = 3  # capsule offsets -1..1
  return config
