"""Truncated BPTT: a window as long as the episode is full BPTT; shorter windows cut the graph."""

import typing

import jax
import numpy as np
import pytest

from learned_rules import experiment as experiment_lib
from learned_rules.dynamics import run_with_keys
from learned_rules.tasks.base import mean_loss, model_inputs
from learned_rules.train import meta, truncated
from tests.train.helpers import tiny_config


@pytest.fixture(scope="module")
def setup():
  config = tiny_config()
  experiment = experiment_lib.build(config)
  network = experiment.network("learned")
  params = network.init_params(jax.random.PRNGKey(0))
  sample = jax.jit(lambda rng: meta.sample_shard(experiment.task, config, rng))
  episodes, keys = sample(jax.random.PRNGKey(7))
  task = experiment.task
  inputs = model_inputs(task, network, episodes)
  return Setup(network, task, params, episodes, inputs, keys, task.length)


class Setup(typing.NamedTuple):
  network: object
  task: object
  params: object
  episodes: object
  inputs: object
  keys: object
  length: int


def full_bptt(s: Setup):
  def loss(p):
    logits = run_with_keys(s.network, p, s.keys, s.inputs, remat=True)
    return mean_loss(s.task, logits, s.episodes)

  return jax.jit(jax.value_and_grad(loss))(s.params)


def truncated_grad(s: Setup, window):
  run = lambda p: truncated.value_and_grad(
    s.network, s.task, p, s.keys, s.inputs, s.episodes, window
  )
  return jax.jit(run)(s.params)


def assert_trees_close(a, b, rtol=1e-5, atol=1e-7):
  jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=rtol, atol=atol), a, b)


@pytest.mark.parametrize("extra", [0, 3])
def test_window_at_least_the_episode_equals_full_bptt(setup, extra):
  loss, grads = full_bptt(setup)
  (t_loss, _), t_grads = truncated_grad(setup, setup.length + extra)
  np.testing.assert_allclose(t_loss, loss, rtol=1e-6)
  assert_trees_close(t_grads, grads)


def test_short_windows_stop_the_gradient_at_each_boundary(setup):
  s = setup
  window = 4
  assert s.length > 2 * window
  loss, grads = full_bptt(s)
  (t_loss, logits), t_grads = truncated_grad(s, window)
  # The forward pass is the same episode: the same loss and outputs.
  np.testing.assert_allclose(t_loss, loss, rtol=1e-5)
  full_logits = jax.jit(lambda p: run_with_keys(s.network, p, s.keys, s.inputs, True))(s.params)
  np.testing.assert_allclose(logits, full_logits, rtol=1e-5, atol=1e-6)
  # The gradient is that of the window losses with stop_gradient at the boundaries ...
  reference_loss = lambda p: truncated.stop_gradient_loss(
    s.network, s.task, p, s.keys, s.inputs, s.episodes, window
  )
  reference = jax.jit(jax.grad(reference_loss))(s.params)
  assert_trees_close(t_grads, reference, rtol=1e-4, atol=1e-6)
  # ... which is not the full gradient.
  differs = jax.tree.map(lambda a, b: not np.allclose(a, b, rtol=1e-3), t_grads, grads)
  assert any(jax.tree.leaves(differs))


def test_truncated_meta_step_runs_and_is_finite():
  config = tiny_config(unroll_window=5)
  experiment = experiment_lib.build(config)
  network = experiment.network("learned")
  optimizer = meta.make_optimizer(config.train)
  grad_fn = meta.make_grad_fn(network, experiment.task, config)
  step = meta.make_train_step(None, optimizer, grad_fn=grad_fn)
  state = meta.init_train_state(network, optimizer, 0)
  for _ in range(2):
    state, values = step(state)
  assert int(state.step) == 2 and float(values["finite_gradient"]) == 1.0
  assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(state.params))
