r"""TVAE L=0: capsule band only within one frame (K=3), on MNIST sequences.

  python -m experiments.main --config=configs/tvae/mnist_l0.py --workdir=runs/tvae_mnist_l0

Topographic but no temporal coherence: E_eq near the VAE chance level.
"""

from configs.tvae import mnist


def get_config():
  config = mnist.get_config()
  config.model.variant = "tvae"  # shifted band, degenerate with one frame
  config.model.time_window = 1  # only d = 0: no pooling over time
  return config
