import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from learned_rules import experiment as experiment_lib
from learned_rules.train import meta


def build(config):
  experiment = experiment_lib.build(config)
  network = experiment.network(config.rule.name)
  optimizer = meta.make_optimizer(config.train)
  loss_fn = meta.make_loss_fn(network, experiment.task, config)
  return network, optimizer, loss_fn


@pytest.mark.parametrize(
  "topology_name,mode",
  [
    ("fully_connected", "auto"),
    ("layered", "auto"),
    ("sparse", "hetero"),
    ("fully_connected", "sequence"),
  ],
)
def test_meta_gradient_is_finite_and_nonzero_for_every_leaf(tiny_config, topology_name, mode):
  with tiny_config.unlocked():
    tiny_config.topology.name = topology_name
    tiny_config.topology.hidden_sizes = (4,)
    tiny_config.topology.fan_in = 3
    tiny_config.task.mode = mode
  network, optimizer, loss_fn = build(tiny_config)
  state = meta.init_train_state(network, optimizer, seed=0)
  grads, _ = jax.grad(loss_fn, has_aux=True)(state.params, jax.random.PRNGKey(3))
  for path, leaf in jax.tree_util.tree_leaves_with_path(grads):
    name = jax.tree_util.keystr(path)
    assert np.all(np.isfinite(leaf)), name
    assert np.any(leaf != 0), f"zero meta-gradient for {name}"


def test_meta_step_traces_once_and_learns(tiny_config):
  chex.clear_trace_counter()
  with tiny_config.unlocked():
    tiny_config.train.learning_rate = 1e-2
    tiny_config.train.warmup_steps = 1
  network, optimizer, loss_fn = build(tiny_config)
  train_step = meta.make_train_step(loss_fn, optimizer, max_traces=1)
  state = meta.init_train_state(network, optimizer, seed=0)
  params0 = jax.tree.map(np.array, state.params)
  for _ in range(4):
    state, step_metrics = train_step(state)
  assert int(state.step) == 4
  assert np.isfinite(float(step_metrics["loss"]))
  moved = jax.tree.map(lambda a, b: np.any(np.asarray(a) != b), state.params, params0)
  assert all(jax.tree.leaves(moved))
  # The guard is live: a state of another dtype forces a second trace, which must raise.
  odd = state.replace(step=state.step.astype(jnp.int16))
  with pytest.raises(AssertionError, match="traced"):
    train_step(odd)


def test_remat_does_not_change_the_gradient(tiny_config):
  network, _, loss_fn = build(tiny_config)
  params = network.rule.init_params(jax.random.PRNGKey(0), 4)
  with tiny_config.unlocked():
    tiny_config.train.remat = False
  _, _, loss_fn_plain = build(tiny_config)
  rng = jax.random.PRNGKey(5)
  g_remat = jax.grad(lambda p: loss_fn(p, rng)[0])(params)
  g_plain = jax.grad(lambda p: loss_fn_plain(p, rng)[0])(params)
  jax.tree.map(
    lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6), g_remat, g_plain
  )
