r"""TVAE training-step time per MNIST row at the reference's batch of 8, each next to the plain
VAE timed in the same process.

  python -m experiments.study --config=configs/studies/tvae_step.py
  python -m experiments.study --config=configs/studies/tvae_step.py --config.repeats=3 \
    --config.label="after"

About 2 min on this 2-core CPU (compilation of eight models dominates).
"""

import ml_collections

from configs.studies import common
from configs.tvae import (
  mnist,
  mnist_2d,
  mnist_bubble,
  mnist_generalization,
  mnist_l0,
  mnist_l5,
  mnist_l18,
  mnist_vae,
)


def get_config():
  config = common.study("tvae_step", "results/tvae_step.jsonl")
  del config["bases"]
  config.rows = ml_collections.ConfigDict(
    {
      "VAE": mnist_vae.get_config(),
      "BubbleVAE": mnist_bubble.get_config(),
      "TVAE L=0": mnist_l0.get_config(),
      "TVAE L=5/36": mnist_l5.get_config(),
      "TVAE L=13/36": mnist.get_config(),
      "TVAE L=1/2": mnist_l18.get_config(),
      "2-D TVAE": mnist_2d.get_config(),
      "TVAE L=13/36, generalization": mnist_generalization.get_config(),
    }
  )  # row name -> its TVAE config (the data is read as in training)
  for row in config.rows.values():
    row.data.dataset = "synthetic"  # step time does not depend on the pixels: no data needed
  config.batch_size = 8  # sequences per step (the reference's)
  config.repeats = 5  # timed steps per row (medians)
  config.label = ""  # a name for this run in the report (e.g. the topographic sum's method)
  return config
