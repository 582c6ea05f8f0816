r"""BubbleVAE: stationary W window (time -2..2 x capsule -1..1), no shift, on MNIST sequences.

  python -m experiments.main --config=configs/tvae/mnist_bubble.py --workdir=runs/tvae_mnist_bubble

Temporal coherence without the shift: E_eq below the VAE but above the shifted TVAE.
"""

from configs.tvae import mnist


def get_config():
  config = mnist.get_config()
  config.model.variant = "bubble"  # all-ones window over time and capsule position
  config.model.time_window = 5  # time offsets -2..2
  config.model.cap_window = 3  # capsule offsets -1..1
  return config
