r"""Teacher task on a layered net taught at its outputs: x on the inputs, teacher(x) taught out.

  python -m experiments.main --config=configs/teacher_layered.py --workdir=/tmp/teacher_layered

Each episode draws a random linear-threshold teacher y = sign(W x) on D = 16 bits and stores K in
[4, 8] pairs on 16 input neurons -> 32 hidden -> 16 output neurons (1024 synapses, two synapse
layers): while a pair is stored (5 steps each), x is clamped on the inputs and y given to the
outputs on the teaching channel (task.teaching); then 8 unseen keys are shown alone and the
outputs are read out. This is the layout of configs/remember_layered.py (remember, hetero with
teaching), so a rule meta-trained there on random pairs runs here unchanged. Baselines on the
same episodes: `backprop` (one SGD step per stored pair; --config.task.repetitions=10 for ten
passes), `delta_features` (the delta rule on the output layer over the frozen random hidden
layer), Hebbian (reads no teaching: chance here), the teacher (oracle, 1.0) and the per-bit
majority of the stored answers (floor, 0.5 in expectation). Learning curves against K for these
and the learned rules: `python -m experiments.study --config=configs/studies/teacher_curves.py`
(RESULTS.md, "Remembering becomes learning").
"""

from configs import teacher


def get_config():
  config = teacher.get_config()
  config.task.teaching = True  # x on the input neurons, y taught to the output neurons
  config.task.store_steps = 5  # P: >= 2 x synapse layers + 1 (backprop's forward and back sweep)
  config.task.recall_steps = 3  # P_r: >= synapse layers + 1 (the cue's forward sweep)
  config.topology.name = "layered"  # input -> hidden -> output
  config.topology.hidden_sizes = (32,)  # one hidden layer of 32 neurons
  config.rule.backprop_learning_rate = 0.04  # configs/remember_layered.py's best at one pass
  config.rule.delta_features_learning_rate = 0.3  # configs/remember_layered.py's best
  config.train.num_steps = 2000  # meta-training steps
  config.eval.baselines = ("backprop", "delta_features", "hebbian")  # same episodes
  return config
