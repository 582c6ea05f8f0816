r"""Layered hetero-association, the learned rule meta-trained from a hand-set Hebbian start.

  python -m experiments.main --config=configs/remember_layered_warm.py --workdir=/tmp/layered_warm

configs/remember_layered.py (K = 4 pairs of D = 16 bits, 16 -> 32 -> 16 neurons, the target on
the output neurons' teaching channel while a pair is stored) with the learned rule in its bilinear
form, started from `rule.init='hebbian_features'` (learned_rules/rules/hand_init.py, our design):
its own parameters set so that the input synapses carry fixed random weights (a hidden layer of
random tanh features) and the output synapses are written Hebbian-style, activity of the hidden
neuron times the taught target. Meta-training from a random init first sits at the answer that needs
no cue (each output reports the majority of its taught bits, 0.68 here), because storing needs
a write and a read that each have little gradient without the other; this start has both. (At
an undecayed rate the random init leaves that plateau after a number of steps that varies by
seed: configs/studies/layered_scratch.py.) The loss is on the last step of each recall (the only
step at which the cue has reached the outputs through two synapse layers); 1000 meta-steps.
Controls on the same 512 episodes: the start itself (--config.train.num_steps=0), the same
command from a random init (--config.rule.init=random), the backprop rule (one SGD pass),
delta_features and the oracle. README, "Layered networks", has the measured table.
"""

from configs import remember_layered


def get_config():
  config = remember_layered.get_config()
  config.rule.bilinear = True  # w x pre and pre x post terms: the form the hand-set start needs
  config.rule.init = "hebbian_features"  # the hand-set start (rules/hand_init.py)
  config.rule.hand_eta = 1.0  # its Hebbian write gain (our first guess, not tuned)
  config.task.loss_steps = "last"  # each recall's last step: the cue has reached the outputs
  config.train.num_steps = 1000  # meta-training steps
  config.eval.probe = True  # memory-location probe: how much lives in each synapse layer
  return config
