r"""The abstract's claims against the TVAE records, one line each with its paired comparison.

  python -m experiments.study --config=configs/studies/tvae_curves.py        # its records
  python -m experiments.study --config=configs/studies/tvae_organization.py  # its records
  python -m experiments.study --config=configs/studies/tvae_claims.py

Reads results/tvae_curves.jsonl and results/tvae_organization.jsonl; trains and evaluates
nothing, writes nothing (`python -m experiments.study --report` puts the table in
RESULTS_TVAE.md).
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.study = "tvae_claims"  # the study that runs this config
  config.records_dir = "results"  # where the tvae_curves and tvae_organization records are
  return config
