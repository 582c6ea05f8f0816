r"""2-D TVAE: one 18 x 18 torus of 324 units, 5 x 5 circular neighbourhood, S = 1.

  python -m experiments.main --config=configs/tvae/mnist_2d.py --workdir=runs/tvae_mnist_2d

A topographic map: samples.png shows prior samples, traversals.png rolls along the torus.
"""

from configs.tvae import mnist


def get_config():
  config = mnist.get_config()
  config.model.variant = "tvae_2d"  # one capsule shaped as an 18 x 18 torus
  config.model.n_caps = 1  # a single torus
  config.model.cap_dim = 324  # 18 x 18 units
  config.model.time_window = 1  # S = 1: no time pooling
  config.model.cap_window = 5  # 5 x 5 neighbourhood on the torus
  config.model.mu_init = 10.0  # μ starts at 10 for the 2-D model
  config.data.seq_len = 1  # single frames
  config.data.transforms = "none"  # plain digits
  config.data.eval_transforms = "none"  # plain digits at test time too
  config.data.channels = 1  # grey, one channel: the reference colours only hue-swept MNIST
  config.batch_size = 128  # images per step
  config.num_epochs = 250  # passes over the training digits
  return config
