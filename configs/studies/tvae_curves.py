r"""TVAE learning curves: log p(x), E_eq and the pixel equivariance error every 5 epochs of the
100-epoch MNIST runs, each next to the same config and seed untrained.

  bash results/tvae_100_epochs/queue_vae.sh  # train (each queue resumes what is unfinished)
  bash results/tvae_100_epochs/queue_tvae.sh; bash results/tvae_100_epochs/queue_tvae_l0.sh
  python -m experiments.study --config=configs/studies/tvae_curves.py

Reads each run's workdir (`<root>/<workdir>`: config.json, metrics.jsonl) and evaluates its
untrained control once (about 10 s a run on this 2-core CPU); a run still training is recorded as
far as it got, and rerunning adds its newer state.
"""

from configs.studies import common


def get_config():
  config = common.study("tvae_curves", "results/tvae_curves.jsonl")
  del config["bases"]
  config.root = "runs/tvae100"  # where the runs' workdirs are
  config.runs = (  # 'workdir|row label': the runs to read, by row
    "VAE_s0|VAE",
    "VAE_s1|VAE",
    "VAE_s2|VAE",
    "TVAE_L13_s0|TVAE L=13/36",
    "TVAE_L13_s1|TVAE L=13/36",
    "TVAE_L13_s2|TVAE L=13/36",
    "TVAE_L0_s0|TVAE L=0",
    "TVAE_L0_s1|TVAE L=0",
    "TVAE_L0_s2|TVAE L=0",
  )
  return config
