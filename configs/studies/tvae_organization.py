r"""TVAE topographic organization by digit: each MNIST run's latent units coloured by the digit
they prefer, with d' selectivity and neighbour agreement, next to the same model untrained.

  python -m experiments.make_mnist --out_dir=data/mnist   # once
  python -m experiments.study --config=configs/studies/tvae_table.py \
    "--config.only=('VAE', 'BubbleVAE', 'TVAE L=0', 'TVAE L=5/36', 'TVAE L=13/36', 'TVAE L=1/2', \
    '2-D TVAE')" --config.mnist_2d_epochs=250
  python -m experiments.study --config=configs/studies/tvae_table.py \
    "--config.only=('2-D TVAE',)" --config.mnist_2d_epochs=250 --config.root=runs/tvae_long_s1 \
    "--config.overrides=('seed=1',)" --config.records=runs/tvae_long_s1/reports.jsonl
  python -m experiments.study --config=configs/studies/tvae_organization.py

The first study command trains the MNIST rows in runs/tvae_long (10 epochs each; the 2-D TVAE
250 epochs of single frames, as RESULTS_TVAE.md's table has them), the second seed 1 of the 2-D
TVAE in runs/tvae_long_s1 (the same with TVAE L=13/36, and with seed 2, make the other seeds);
this one reads their checkpoints (read only) and measures each on the same test digits. A run
not trained yet is skipped. For the 100-epoch runs:
`--config.root=runs/tvae100 "--config.runs=('VAE_s0|VAE', 'TVAE_L13_s0|TVAE L=13/36')"`.
"""

from configs.studies import common


def get_config():
  config = common.study("tvae_organization", "results/tvae_organization.jsonl")
  del config["bases"]
  config.root = "runs"  # the runs' workdirs are <root>/<workdir>
  config.runs = (  # 'workdir|row label': the runs to read, by row (tvae_table's workdir names)
    "tvae_long/VAE|VAE",
    "tvae_long/BubbleVAE|BubbleVAE",
    "tvae_long/TVAE_L_0|TVAE L=0",
    "tvae_long/TVAE_L_5_36|TVAE L=5/36",
    "tvae_long/TVAE_L_13_36|TVAE L=13/36",
    "tvae_long_s1/TVAE_L_13_36|TVAE L=13/36",
    "tvae_long_s2/TVAE_L_13_36|TVAE L=13/36",
    "tvae_long/TVAE_L_1_2|TVAE L=1/2",
    "tvae_long/2_D_TVAE|2-D TVAE",
    "tvae_long_s1/2_D_TVAE|2-D TVAE",
    "tvae_long_s2/2_D_TVAE|2-D TVAE",
  )
  config.num_images = 2000  # test digits, one sequence each (a seeded subset)
  config.seed = 0  # the subset, the sequences' transforms and the sampled t's noise
  config.batch_size = 100  # sequences per forward pass
  return config
