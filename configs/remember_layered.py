r"""Layered network: input layer -> hidden layer -> output layer, synapses only between layers.

  python -m experiments.main --config=configs/remember_layered.py --workdir=/tmp/remember_layered

Patterns are clamped on 16 input neurons and must be read out from 16 separate output neurons,
so the memory has to be written into the two synapse layers through forward and backward
messages. A harder setting than the recurrent default; README.md has the measured table. The
Hebbian baseline cannot work here by construction (its output neurons are never clamped), so it
sits at chance: the comparison that matters is with the oracle.
"""

from configs import remember


def get_config():
  config = remember.get_config()
  config.task.pattern_bits = 16  # D: input neurons = output neurons = D
  config.task.k_min = 2  # fewest patterns per training episode
  config.task.k_max = 4  # most patterns per training episode
  config.topology.name = "layered"  # input -> hidden -> output
  config.topology.hidden_sizes = (32,)  # one hidden layer of 32 neurons
  config.train.num_steps = 2000  # meta-training steps
  config.train.batch_size = 16  # episodes per meta-step
  return config
