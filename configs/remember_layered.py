r"""Layered network: input layer -> hidden layer -> output layer, synapses only between layers.

  python -m experiments.main --config=configs/remember_layered.py --workdir=/tmp/remember_layered

Patterns are clamped on 16 input neurons and must be read out from 16 separate output neurons,
so the memory has to be written into the two synapse layers through forward and backward
messages. A much harder setting than the recurrent default, and not yet shown to work: a partial
run of this config (200 of 2000 steps on the shared 2-core CPU, about 2 steps/s) sat at chance
(loss 0.693), and in the sweeps a rule meta-trained for 200 s on a layered D = 16 net stayed
near chance (RESULTS.md). The Hebbian baselines cannot work here by construction (their output
neurons are never clamped); compare with the oracle.
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
