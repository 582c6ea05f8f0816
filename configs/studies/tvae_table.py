r"""The Topographic VAE rows of the reference's tables, each next to its untrained control (and
the main rows next to a time-shuffled control), with paired differences and pictures.

  python -m experiments.make_mnist --out_dir=data/mnist   # once
  python -m experiments.study --config=configs/studies/tvae_table.py
  python -m experiments.study --config=configs/studies/tvae_table.py --config.mnist_epochs=100 \
    "--config.only=('VAE', 'TVAE L=13/36')"

Every row trains (resuming) in <root>/<label>; a finished row is only evaluated and a cached
evaluation reused, so rerunning continues where it stopped; `reuse=True` trains nothing. The
report built from the workdirs is appended to results/tvae_reports.jsonl (RESULTS_TVAE.md prints
the latest). At 10 epochs an MNIST row takes 10 min to 1 h 45 min on this 2-core CPU.
"""

import ml_collections

from configs.studies import common

# configs/tvae/<name>.py: every row's model.
ROW_CONFIGS = (
  "dsprites",
  "dsprites_bubble",
  "dsprites_l0",
  "dsprites_l5",
  "dsprites_l15",
  "dsprites_vae",
  "fashion_mnist",
  "mnist",
  "mnist_2d",
  "mnist_bubble",
  "mnist_generalization",
  "mnist_l0",
  "mnist_l5",
  "mnist_l18",
  "mnist_vae",
)


def get_config():
  config = common.study("tvae_table", "results/tvae_reports.jsonl")
  del config["bases"]  # the rule engine's configs: not used here
  config.row_configs = ml_collections.ConfigDict(
    {name: common.tvae_config(name) for name in ROW_CONFIGS}
  )  # configs/tvae/<name>.py by name: the rows' models
  config.document = "RESULTS_TVAE.md"  # where the report's picture links point from
  config.root = "runs/tvae_long"  # each row's workdir: <root>/<label made filename-safe>
  config.figures_dir = "results/tvae"  # where the pictures linked from the report go
  config.data_dir = "data/mnist"  # MNIST IDX files (experiments.make_mnist)
  config.dataset = "mnist"  # digit dataset of the MNIST rows (mnist | synthetic)
  config.dsprites_dataset = "dsprites_procedural"  # dsprites (the real npz) | dsprites_procedural
  config.dsprites_data_dir = "data/dsprites"  # where the real dSprites npz would be
  config.fashion_data_dir = "data/fashion_mnist"  # Fashion-MNIST IDX files (make_mnist)
  config.fashion_train_size = 8000  # training images of the Fashion-MNIST row (as many as MNIST)
  config.mnist_epochs = 10  # epochs per MNIST row (also generalization and Fashion-MNIST)
  config.dsprites_epochs = 2  # epochs per dSprites row
  config.mnist_2d_epochs = 50  # epochs of the 2-D TVAE (batch 128)
  config.max_steps = 0  # cap on the steps of every row (0 = none; tiny smoke runs)
  config.train_size = 0  # training base images of the MNIST and dSprites rows (0 = all)
  config.eval_size = 500  # test sequences per row
  config.optimizer = "sgd"  # the reference's SGD with momentum 0.9, or adam
  config.learning_rate = 1e-4  # the reference's
  config.only = ()  # train only these rows (labels); the others are read from their workdirs
  config.reuse = False  # train nothing: the report from the cached evaluations alone
  config.overrides = ()  # 'key=value' overrides of every row's config (tiny runs)
  return config
