r"""TVAE L=5/36: shifted band over 5 frames (K=3), on MNIST sequences.

  python -m experiments.main --config=configs/tvae/mnist_l5.py --workdir=runs/tvae_mnist_l5

Partial shifted coherence: E_eq well below chance, above L=13/36.
"""

from configs.tvae import mnist


def get_config():
  config = mnist.get_config()
  config.model.time_window = 5  # time offsets -2..2, capsule band shifted with them
  return config
