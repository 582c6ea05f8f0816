"""Truncated BPTT: a window as long as the episode is full BPTT; shorter windows cut the graph."""

import jax
import numpy as np
import pytest

from learned_rules import metrics, setup_config
from learned_rules.train import meta, truncated
from tests.train.helpers import tiny_config


@pytest.fixture(scope="module")
def setup():
  config = tiny_config()
  experiment = setup_config.build(config)
  network = experiment.network("learned")
  params = network.init_params(jax.random.PRNGKey(0))
  sample = jax.jit(lambda rng: meta.sample_shard(experiment.task, config, rng))
  episodes, keys = sample(jax.random.PRNGKey(7))
  return network, params, episodes, keys, experiment.task.length


def full_bptt(network, params, episodes, keys):
  def loss(p):
    logits = meta.run_with_keys(network, p, keys, episodes, remat=True)
    return jax.numpy.mean(jax.vmap(metrics.recall_loss)(logits, episodes))

  return jax.jit(jax.value_and_grad(loss))(params)


def truncated_grad(network, params, episodes, keys, window):
  run = lambda p: truncated.value_and_grad(network, p, keys, episodes, window)
  return jax.jit(run)(params)


def assert_trees_close(a, b, rtol=1e-5, atol=1e-7):
  jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=rtol, atol=atol), a, b)


@pytest.mark.parametrize("extra", [0, 3])
def test_window_at_least_the_episode_equals_full_bptt(setup, extra):
  network, params, episodes, keys, length = setup
  loss, grads = full_bptt(network, params, episodes, keys)
  (t_loss, _), t_grads = truncated_grad(network, params, episodes, keys, length + extra)
  np.testing.assert_allclose(t_loss, loss, rtol=1e-6)
  assert_trees_close(t_grads, grads)


def test_short_windows_stop_the_gradient_at_each_boundary(setup):
  network, params, episodes, keys, length = setup
  window = 4
  assert length > 2 * window
  loss, grads = full_bptt(network, params, episodes, keys)
  (t_loss, logits), t_grads = truncated_grad(network, params, episodes, keys, window)
  # The forward pass is the same episode: the same loss and outputs.
  np.testing.assert_allclose(t_loss, loss, rtol=1e-5)
  full_logits = jax.jit(lambda p: meta.run_with_keys(network, p, keys, episodes, True))(params)
  np.testing.assert_allclose(logits, full_logits, rtol=1e-5, atol=1e-6)
  # The gradient is that of the window losses with stop_gradient at the boundaries ...
  reference_loss = lambda p: truncated.stop_gradient_loss(network, p, keys, episodes, window)
  reference = jax.jit(jax.grad(reference_loss))(params)
  assert_trees_close(t_grads, reference, rtol=1e-4, atol=1e-6)
  # ... which is not the full gradient.
  differs = jax.tree.map(lambda a, b: not np.allclose(a, b, rtol=1e-3), t_grads, grads)
  assert any(jax.tree.leaves(differs))


def test_truncated_meta_step_runs_and_is_finite():
  config = tiny_config(unroll_window=5)
  experiment = setup_config.build(config)
  network = experiment.network("learned")
  optimizer = meta.make_optimizer(config.train)
  grad_fn = meta.make_grad_fn(network, experiment.task, config)
  step = meta.make_train_step(None, optimizer, grad_fn=grad_fn)
  state = meta.init_train_state(network, optimizer, 0)
  for _ in range(2):
    state, values = step(state)
  assert int(state.step) == 2 and float(values["finite_gradient"]) == 1.0
  assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(state.params))
