r"""TVAE L=13/36 on Fashion-MNIST transformation sequences (Debian dataset-fashion-mnist).

  python -m experiments.main --config=configs/tvae/fashion_mnist.py --workdir=runs/tvae_fmnist

Needs: apt-get install -y dataset-fashion-mnist. E_eq far below the chance level (~13.2k).
"""

from configs.tvae import mnist


def get_config():
  config = mnist.get_config()
  config.data.dataset = "fashion_mnist"  # Debian package files
  config.data.data_dir = "/usr/share/datasets/fashion-mnist"  # where the package puts them
  return config
