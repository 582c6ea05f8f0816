r"""TVAE L=1/2: shifted band over all 18 frames (K=3), on MNIST sequences.

  python -m experiments.main --config=configs/tvae/mnist_l18.py --workdir=runs/tvae_mnist_l18

Full shifted coherence over the sequence: E_eq far below chance.
"""

from configs.tvae import mnist


def get_config():
  config = mnist.get_config()
  config.model.time_window = 18  # every frame of the sequence (circular)
  return config
