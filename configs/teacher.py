r"""Teacher task: store K pairs (x, teacher(x)) of a random teacher, answer keys never stored.

  python -m experiments.main --config=configs/teacher.py --workdir=/tmp/teacher

Each episode draws its own random linear-threshold teacher y = sign(W x) on D = 16 bits, stores
K in [4, 8] pairs on a fully connected net of 2D = 32 visible neurons ([x, y], 992 synapses),
then asks 8 unseen keys; bit accuracy on their answers is generalization. The teacher is the
ceiling (the oracle row, 1.0); the per-bit majority of the stored answers is the floor. The
layout is the remember task's hetero mode without teaching ([x, y] clamped together, 2 input
channels), so a rule meta-trained on remembering random pairs runs here unchanged; the layered
form (x on the inputs, y taught to the outputs) is configs/teacher_layered.py.
Hand-written baselines at K = 8 on 256 held-out episodes (--config.eval.num_episodes=256; a
shared 2-core CPU): answer-bit accuracy on unseen keys 0.58 for Hebbian, 0.62 for delta, oracle
1.0; the majority floor is 0.5 in expectation (these teachers are odd functions, so answers are
unbiased). The learned rule after the full 500 steps has not been measured yet.
"""

import ml_collections

from configs import remember


def get_config():
  config = remember.get_config()
  config.task = task = ml_collections.ConfigDict()
  task.name = "teacher"  # the task (learned_rules/tasks: TASKS)
  task.teacher = "linear"  # 'linear' (sign(W x)) or 'two_layer' (sign(W2 sign(W1 x)))
  task.pattern_bits = 16  # D: bits of a key x and of its answer y (2D visible neurons, or D)
  task.teacher_hidden = 16  # two_layer: hidden threshold units of the teacher
  task.k_min = 4  # fewest pairs stored per training episode
  task.k_max = 8  # most pairs stored per training episode (K drawn uniformly per episode)
  task.num_queries = 8  # keys asked after storage, every episode
  task.query_seen = False  # False: fresh unseen keys (generalization); True: the stored keys
  task.store_steps = 2  # P: steps each pair is clamped during storage
  task.gap_steps = 1  # G: blank steps after each stored pair
  task.delay_steps = 2  # Q: blank steps between storage and the first query
  task.recall_steps = 3  # P_r: steps each query key is shown
  task.repetitions = 1  # R: passes over the stored pairs during storage
  task.teaching = False  # True: x on the inputs, y taught to the outputs (V = D; layered nets)
  task.loss_steps = "all"  # query steps the loss scores: 'all' or 'last' (of each query)

  config.train.num_steps = 500  # meta-training steps
  config.train.learning_rate = 2e-3  # as measured (the default config moved to 4e-3)
  config.eval.baselines = ("hebbian", "delta")  # hand-written rules on the same episodes
  return config
