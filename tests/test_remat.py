"""The remat policy `train.remat_every`: the same run and gradient, memory that grows less in T."""

import jax
import numpy as np
import pytest

from learned_rules import experiment as experiment_lib
from learned_rules.common.errors import ConfigError
from learned_rules.dynamics import run_with_keys
from learned_rules.tasks.base import mean_loss, model_inputs
from learned_rules.train import meta, truncated


def build(config):
  experiment = experiment_lib.build(config)
  network = experiment.network("learned")
  params = network.init_params(jax.random.PRNGKey(0))
  episodes, keys = meta.sample_shard(experiment.task, config, jax.random.PRNGKey(7))
  inputs = model_inputs(experiment.task, network, episodes)
  return network, experiment.task, params, episodes, keys, inputs


def assert_trees_close(a, b, rtol=1e-5, atol=1e-7):
  jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=rtol, atol=atol), a, b)


@pytest.fixture(scope="module")
def episode_setup():
  from tests.conftest import tiny_remember_config

  return build(tiny_remember_config())


def test_policy_gives_the_full_remat_run_and_gradient(episode_setup):
  network, task, params, episodes, keys, inputs = episode_setup
  length = inputs.shape[1]

  def loss_and_grad(remat):
    def loss(p):
      logits = run_with_keys(network, p, keys, inputs, remat)
      return mean_loss(task, logits, episodes), logits

    return jax.jit(jax.value_and_grad(loss, has_aux=True))(params)

  (loss_full, logits_full), grads_full = loss_and_grad(True)
  # 2 and 5 leave a remainder chunk, T - 1 a chunk and a remainder (split in two), T one chunk.
  for every in sorted({2, 5, length - 1, length}):
    (loss, logits), grads = loss_and_grad(every)
    np.testing.assert_allclose(logits, logits_full, rtol=1e-6, atol=1e-6, err_msg=f"k={every}")
    np.testing.assert_allclose(loss, loss_full, rtol=1e-6, err_msg=f"k={every}")
    assert_trees_close(grads, grads_full)


def test_policy_keeps_the_final_state(episode_setup):
  network, _, params, _, keys, inputs = episode_setup
  state = network.init_state(params, keys[0])
  full_state, full_logits = network.run(params, state, inputs[0], remat=True)
  for every in (3, 4):  # T = 14 at the tiny config: remainders of 2 and 2
    final, logits = network.run(params, state, inputs[0], remat=every)
    np.testing.assert_allclose(logits, full_logits, rtol=1e-6, atol=1e-6)
    assert_trees_close(final, full_state, rtol=1e-6, atol=1e-6)


def config_gradients(config, every: int):
  """(full-BPTT meta-gradient via make_loss_fn, truncated-window gradient) at remat_every."""
  with config.unlocked():
    config.train.remat_every = every
  network, task, params, episodes, keys, inputs = build(config)
  loss_fn = meta.make_loss_fn(network, task, config)
  full = jax.grad(lambda p: loss_fn(p, jax.random.PRNGKey(5))[0])(params)
  remat = meta.remat_policy(network, config.train)
  window = lambda p: truncated.value_and_grad(network, task, p, keys, inputs, episodes, 5, remat)
  return full, jax.jit(window)(params)[1]


def test_config_key_reaches_the_meta_loss_and_truncated_windows(tiny_config):
  assert meta.remat_policy(None, tiny_config.train) is True  # the default: today's policy
  full_every_step, window_every_step = config_gradients(tiny_config, 1)
  full, window = config_gradients(tiny_config, 3)
  assert_trees_close(full, full_every_step)
  assert_trees_close(window, window_every_step)


def test_bad_remat_every_is_a_config_error(tiny_config):
  network, task, *_ = build(tiny_config)
  for bad in (0, -2):
    with tiny_config.unlocked():
      tiny_config.train.remat_every = bad
    with pytest.raises(ConfigError, match="train.remat_every"):
      meta.make_loss_fn(network, task, tiny_config)
  with tiny_config.unlocked():
    tiny_config.train.remat_every = 4
    tiny_config.rule.name = "lstm"
  lstm = experiment_lib.build(tiny_config).model("lstm")
  with pytest.raises(ConfigError, match="needs a Network"):
    meta.make_grad_fn(lstm, task, tiny_config)


def meta_step_temp_bytes(config, load: int, every: int) -> int:
  """XLA's temporary bytes for the compiled meta-step (deterministic for a program)."""
  with config.unlocked():
    config.task.k_min = config.task.k_max = load
    config.train.remat_every = every
  experiment = experiment_lib.build(config)
  network = experiment.network("learned")
  optimizer = meta.make_optimizer(config.train)
  train_step = meta.make_train_step(meta.make_loss_fn(network, experiment.task, config), optimizer)
  state = meta.init_train_state(network, optimizer, config.seed)
  analysis = train_step.lower(state).compile().memory_analysis()
  if analysis is None:
    pytest.skip("this backend reports no memory analysis")
  return experiment.task.length, analysis.temp_size_in_bytes


def test_meta_step_memory_grows_much_less_with_episode_length(tiny_config):
  with tiny_config.unlocked():  # synapse states large enough to dominate the temporaries
    tiny_config.task.pattern_bits = 32
    tiny_config.rule.synapse_state_size = 8
  growth = {}
  for every in (1, 12):
    short_length, short = meta_step_temp_bytes(tiny_config, 2, every)
    long_length, long = meta_step_temp_bytes(tiny_config, 12, every)
    assert (short_length, long_length) == (14, 74)
    growth[every] = long - short
  # States kept: 14 -> 74 for every step; 2 + 7 -> 6 + 12 for one per 12 steps (T = 14: 2 x 7).
  assert growth[12] < 0.25 * growth[1], growth
