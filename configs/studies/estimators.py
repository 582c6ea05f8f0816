r"""BPTT against evolution strategies (evosax) at equal training wall time, on one task config.

  python -m experiments.study --config=configs/studies/estimators.py
  python -m experiments.study --config=configs/studies/estimators.py \
    --config.base=remember_layered \
    --config.seconds=300 "--config.overrides=('train.es.population_size=64',)"

Each estimator trains `bases[base]` (only `train.estimator` differs) for `seconds` of training
(compilation included), its checkpoints are scored afterwards on the same held-out episodes, and
`results/bptt_vs_es_<name>.jsonl` and its plot are replaced. Twice `seconds` plus scoring.
"""

from configs.studies import common


def get_config():
  config = common.study("estimators", "results/bptt_vs_es.jsonl")  # its directory is used
  config.base = "remember"  # the task config both estimators train (an entry of `bases`)
  config.overrides = ()  # 'key=value' overrides of that config (both estimators)
  config.name = ""  # the name in the records' file name ('' = `base`)
  config.seconds = 600.0  # training wall time per estimator (compilation included)
  config.workdir = "runs/compare_estimators"  # root of the training workdirs
  config.eval_every_s = 10.0  # training seconds between scored checkpoints
  config.eval_episodes = 256  # held-out episodes every point is scored on
  config.bptt_checkpoint_every = 20  # BPTT meta-steps between checkpoints
  config.es_checkpoint_every = 2  # ES generations between checkpoints
  config.es_batch_size = -1  # episodes per ES generation (-1: train.batch_size)
  config.estimators = ("bptt", "es")  # which estimators to train
  return config
