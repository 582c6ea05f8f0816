r"""TVAE L=13/36 on Fashion-MNIST transformation sequences (Debian dataset-fashion-mnist).

  python -m experiments.main --config=configs/tvae_fashion_mnist.py --workdir=runs/tvae_fmnist

Needs: apt-get install -y dataset-fashion-mnist. E_eq far below the chance level (~13.2k).
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
  config.data.dataset = "fashion_mnist"  # Debian package files
  config.data.data_dir = "/usr/share/datasets/fashion-mnist"  # where the package puts them
  return config
