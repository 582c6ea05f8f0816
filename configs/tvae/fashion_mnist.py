r"""TVAE L=13/36 on Fashion-MNIST transformation sequences (Debian's dataset-fashion-mnist).

  python -m experiments.make_mnist --dataset=fashion_mnist --out_dir=data/fashion_mnist  # once
  python -m experiments.main --config=configs/tvae/fashion_mnist.py --workdir=runs/tvae_fmnist

make_mnist copies the IDX files of the Debian package (apt-get download, no root needed); with
the package installed, --config.data.data_dir=/usr/share/datasets/fashion-mnist reads them in
place. E_eq far below the chance level (~13.2k) at the spec's budget.
"""

from configs.tvae import mnist


def get_config():
  config = mnist.get_config()
  config.data.dataset = "fashion_mnist"  # Fashion-MNIST IDX files
  config.data.data_dir = "data/fashion_mnist"  # where experiments.make_mnist puts them
  return config
