r"""Layered network taught at its outputs: input layer -> hidden layer -> output layer.

  python -m experiments.main --config=configs/remember_layered.py --workdir=/tmp/remember_layered

Hetero-association on a feed-forward net (our target setting): K = 4 pairs (a_k, b_k) of
D = 16 bits, 16 input neurons -> 32 hidden -> 16 output neurons (1024 synapses, two synapse
layers). While a pair is stored (5 steps each), a_k is clamped on the input neurons and b_k is
given to the output neurons on the teaching channel (task.teaching); at recall only a_k is shown
and b_k is read out from the outputs, so every target bit is hidden from the cue. The memory must
be written into both synapse layers through forward and backward messages. 5 store steps is what
a one-step SGD of back-propagation needs through two synapse layers (forward 2 steps, error back
2 steps, then the first layer's write), so the learned rule has room to propagate too.
Baselines on the same episodes: `backprop` (one SGD step per stored pair), `delta_features`
(the normalized delta rule on the output layer over the frozen random hidden layer), Hebbian and
delta (which read only the input channel: their output neurons never learn, so they sit at
chance here), and the oracle (the stored value of the nearest stored key).
Measured (the evaluation of this command with --config.train.num_steps=5, K = 4, 512 held-out
episodes, shared 2-core CPU, about 3 minutes): target-bit accuracy backprop 0.948 (one pass;
learning rate 0.04 is the best of 0.01-1, 0.03 gives 0.924, 0.1 gives 0.802, >= 0.3 diverges
to 0.50; ten passes, --config.task.repetitions=10: 1.000 at 0.01, 0.03 and 0.04),
delta_features 0.982 (rate 0.3; 1.0, the exact normalized write, gives 0.964), Hebbian 0.498,
delta 0.498 (their outputs always answer +1), oracle 1.000. The learned rule is at chance after
those 5 steps; meta-trained from its random init it first settles on the per-bit majority of
the taught answers (0.68 at K = 4) and leaves it after about 1,400 steps (one seed) at an
undecayed rate (configs/studies/layered_scratch.py, RESULTS.md "Layered networks");
configs/remember_layered_warm.py meta-trains it from a hand-set Hebbian start to 0.9998.
"""

from configs import remember


def get_config():
  config = remember.get_config()
  config.task.mode = "hetero"  # cue a_k on the inputs, read b_k from the outputs
  config.task.teaching = True  # b_k on the output neurons' teaching channel while storing
  config.task.pattern_bits = 16  # D: input neurons = output neurons = D
  config.task.k_min = 2  # fewest pairs per training episode
  config.task.k_max = 4  # most pairs per training episode (and the evaluation's K)
  config.task.loss_steps = "all"  # every recall step scored (as measured below)
  config.task.store_steps = 5  # P: >= 2 x synapse layers + 1 (backprop's forward and back sweep)
  config.task.recall_steps = 3  # P_r: >= synapse layers + 1 (the cue's forward sweep)
  config.topology.name = "layered"  # input -> hidden -> output
  config.topology.hidden_sizes = (32,)  # one hidden layer of 32 neurons
  config.rule.backprop_learning_rate = 0.04  # best of 0.01-1 at one pass here (docstring)
  config.rule.delta_features_learning_rate = 0.3  # best of 0.1-1 here (docstring)
  config.train.num_steps = 2000  # meta-training steps
  config.train.learning_rate = 2e-3  # as measured (the default config moved to 4e-3)
  config.train.batch_size = 16  # episodes per meta-step
  config.eval.baselines = ("backprop", "delta_features", "hebbian", "delta")  # same episodes
  return config
