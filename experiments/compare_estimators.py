r"""BPTT against evolution strategies (evosax) at equal wall time on one config.

  nice -n 5 python -m experiments.compare_estimators --config=configs/remember.py --seconds=600
  nice -n 5 python -m experiments.compare_estimators --config=configs/remember_layered.py \
    --seconds=600

Trains the config with train.estimator='bptt' and then 'es' for --seconds of training each
(overrides such as --config.train.es.population_size=64 apply to both runs; the ES block only
matters to ES), scores checkpoints about --eval_every_s apart on the same held-out episodes and
writes results/bptt_vs_es_<name>.jsonl and results/bptt_vs_es_<name>.png (<name>: the config
file's name unless --name). Twice --seconds of training plus scoring. The logic is
`learned_rules.sweeps.estimators`.

A 120 s check (`--seconds=120 --es_batch_size=8`, 2-core CPU shared at load ~12, 2026-11-25):
BPTT 191 steps, held-out hidden-bit accuracy 0.50 -> 0.66; ES (population 32, sigma 0.02, Adam
0.03) 18 generations, 0.50 -> 0.49 (training loss 0.69 -> 0.52: it learned the cue's visible bits).
"""

import os

from absl import app, flags
from ml_collections import config_flags

from learned_rules.sweeps import estimators

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", "configs/remember.py", "Task config.", lock_config=True)
flags.DEFINE_float("seconds", 600.0, "Training wall time per estimator (compilation included).")
flags.DEFINE_string("name", "", "Name in the output files ('' = the config file's name).")
flags.DEFINE_string("workdir", "runs/compare_estimators", "Root of the two training workdirs.")
flags.DEFINE_string("results_dir", "results", "Where the JSON-lines records and plot go.")
flags.DEFINE_float("eval_every_s", 10.0, "Training seconds between scored checkpoints.")
flags.DEFINE_integer("eval_episodes", 256, "Held-out episodes every point is scored on.")
flags.DEFINE_integer("bptt_checkpoint_every", 20, "BPTT meta-steps between checkpoints.")
flags.DEFINE_integer("es_checkpoint_every", 2, "ES generations between checkpoints.")
flags.DEFINE_integer("es_batch_size", -1, "Episodes per ES generation (-1: train.batch_size).")
flags.DEFINE_list("estimators", list(estimators.ESTIMATORS), "Which estimators to train.")
flags.DEFINE_string("machine", "", "Written into every summary record ('' = detected).")


def main(argv):
  del argv
  name = (
    FLAGS.name
    or os.path.splitext(os.path.basename(config_flags.get_config_filename(FLAGS["config"])))[0]
  )
  estimators.compare(
    FLAGS.config,
    name,
    seconds=FLAGS.seconds,
    workdir=FLAGS.workdir,
    results_dir=FLAGS.results_dir,
    eval_every_s=FLAGS.eval_every_s,
    eval_episodes=FLAGS.eval_episodes,
    checkpoint_every={"bptt": FLAGS.bptt_checkpoint_every, "es": FLAGS.es_checkpoint_every},
    es_batch_size=FLAGS.es_batch_size,
    estimators=FLAGS.estimators,
    machine=FLAGS.machine,
  )


if __name__ == "__main__":
  app.run(main)
