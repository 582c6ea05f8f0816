r"""TVAE training-step time per MNIST row at the reference's batch of 8, each next to the plain
VAE timed in the same process.

  python -m experiments.study --config=configs/studies/tvae_step.py
  python -m experiments.study --config=configs/studies/tvae_step.py --config.w_method=shifts \
    --config.label="before: a sum of shifted copies"

About 2 min on this 2-core CPU (compilation of eight models dominates).
"""

import ml_collections

from configs.studies import common


def get_config():
  config = common.study("tvae_step", "results/tvae_step.jsonl")
  del config["bases"]
  config.rows = ml_collections.ConfigDict(
    {
      "VAE": common.tvae_config("mnist_vae"),
      "BubbleVAE": common.tvae_config("mnist_bubble"),
      "TVAE L=0": common.tvae_config("mnist_l0"),
      "TVAE L=5/36": common.tvae_config("mnist_l5"),
      "TVAE L=13/36": common.tvae_config("mnist"),
      "TVAE L=1/2": common.tvae_config("mnist_l18"),
      "2-D TVAE": common.tvae_config("mnist_2d"),
      "TVAE L=13/36, generalization": common.tvae_config("mnist_generalization"),
    }
  )  # row name -> its TVAE config (the data is read as in training)
  for row in config.rows.values():
    row.data.dataset = "synthetic"  # step time does not depend on the pixels: no data needed
  config.batch_size = 8  # sequences per step (the reference's)
  config.repeats = 5  # timed steps per row (medians)
  config.w_method = ""  # every row's model.w_method ('': as configured, 'shifts': the old sum)
  config.label = ""  # a name for this run in the report (e.g. the topographic sum's method)
  return config
