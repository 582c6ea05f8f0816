r"""The default remember task, meta-trained by evolution strategies (evosax OpenAI-ES), not BPTT.

  python -m experiments.main --config=configs/remember_es.py --workdir=/tmp/remember_es

Same task, network, rule, logging, checkpoints and evaluation as configs/remember.py; only the
outer loop differs: each generation scores 32 antithetic perturbations of the meta-parameters
(plus their mean) on one shared batch of 8 episodes, forward only, and steps the mean with Adam
on the centered ranks. On the shared 2-core CPU a generation took about 5 s, ten BPTT meta-steps
of the default (0.5 s each, same machine, same minute). It stops after 20 minutes of training
(train.max_seconds), checkpointed, then evaluated like the default. In a 120 s comparison it
lowered the training loss (0.69 -> 0.52: the cue's visible bits) while held-out hidden-bit
accuracy stayed at chance (0.49), where BPTT reached 0.66; a longer run has not been made. Compare
the two with experiments/compare_estimators.py (results/bptt_vs_es_*.png).
"""

from configs import remember


def get_config():
  config = remember.get_config()
  config.train.estimator = "es"  # evosax OpenAI-ES (train.es) instead of BPTT
  config.train.num_steps = 100_000  # generations (the time cap below ends the run first)
  config.train.max_seconds = 1200.0  # stop after 20 minutes of training, then evaluate
  config.train.batch_size = 8  # episodes per generation, shared by every member
  config.train.log_every = 10  # generations between console/metrics.jsonl lines
  config.train.checkpoint_every = 20  # generations between checkpoints
  config.train.es.population_size = 32  # antithetic pairs x 2 per generation
  config.train.es.sigma = 0.02  # perturbation std of every meta-parameter
  config.train.es.learning_rate = 0.03  # Adam step on the mean
  return config
