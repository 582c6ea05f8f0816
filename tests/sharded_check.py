"""Run with 4 forced CPU devices: the sharded network against the one-device network.

  XLA_FLAGS=--xla_force_host_platform_device_count=4 python -m tests.sharded_check

Prints one JSON line of max |differences|: logits and final states of a batch of episodes
(fully connected with hidden neurons; mean aggregation without remat, sum with remat every 2
steps), one `step`, the trainer's meta-gradient, and the meta-parameters after 2 steps of the
real trainer with train.model_parallel=4 against train.model_parallel=1; then the config errors
and a tiny run of the scaling benchmark (learned_rules/studies/bench_sharding.py).
"""

import json
import sys
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

from learned_rules import experiment as experiment_lib
from learned_rules import topology as topology_lib
from learned_rules.common.errors import ConfigError
from learned_rules.dynamics import Network
from learned_rules.rules.learned import LearnedRule
from learned_rules.sharded import ShardedNetwork
from learned_rules.studies import bench_sharding
from learned_rules.tasks.base import model_inputs
from learned_rules.train import meta, parallel, trainer
from tests.studies.helpers import study_config
from tests.train.helpers import tiny_config

DEVICES = 4


def max_diff(a, b) -> float:
  pairs = zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
  return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in pairs)


def perturbed(params, rng, scale=0.3):
  """Parameters off their initial values, so every path of the rule carries signal."""
  leaves, tree = jax.tree.flatten(params)
  keys = jax.random.split(rng, len(leaves))
  noisy = [
    x + scale * jax.random.normal(k, x.shape, x.dtype) for x, k in zip(leaves, keys, strict=True)
  ]
  return jax.tree.unflatten(tree, noisy)


def episodes_check(aggregation: str, remat) -> dict:
  """A batch of 3 random-input episodes of 7 steps, N = 12 (8 visible + 4 hidden)."""
  rule = LearnedRule(neuron_state_size=4, synapse_state_size=3, message_size=4, hidden_size=8)
  topo = topology_lib.fully_connected(8, num_hidden=4)
  dense = Network(rule, topo, aggregation)
  split = ShardedNetwork(rule, topo, aggregation, jax.devices()[:DEVICES])
  params = perturbed(dense.init_params(jax.random.PRNGKey(0)), jax.random.PRNGKey(1))
  external = jax.random.normal(jax.random.PRNGKey(2), (3, 7, 12, 2))
  keys = jax.random.split(jax.random.PRNGKey(3), 3)

  def outputs(model):
    def run(p):
      episode = lambda key, x: model.run_episode(p, key, x, remat)
      return jax.vmap(episode)(keys, external)

    return jax.jit(run)(params)

  (logits_a, state_a), (logits_b, state_b) = outputs(dense), outputs(split)
  return {
    "logits": max_diff(logits_a, logits_b),
    "state": max_diff(state_a, state_b),
    "logit_scale": float(jnp.max(jnp.abs(logits_a))),
    "synapse_change": float(
      jnp.max(jnp.abs(state_a.synapse_state - dense_init(dense, params, keys)))
    ),
  }


def dense_init(network, params, keys):
  return jax.vmap(network.init_state, (None, 0))(params, keys).synapse_state


def step_check() -> float:
  rule = LearnedRule(neuron_state_size=4, synapse_state_size=2, message_size=4, hidden_size=8)
  topo = topology_lib.fully_connected(8)
  dense = Network(rule, topo)
  split = ShardedNetwork(rule, topo, devices=jax.devices()[:DEVICES])
  params = perturbed(dense.init_params(jax.random.PRNGKey(4)), jax.random.PRNGKey(5))
  state = dense.init_state(params, jax.random.PRNGKey(6))
  state = state.replace(neuron_state=jax.random.normal(jax.random.PRNGKey(7), (8, 4)))
  external = jax.random.normal(jax.random.PRNGKey(8), (8, 2))
  return max_diff(dense.step(params, state, external), jax.jit(split.step)(params, state, external))


def gradient_check() -> dict:
  """The trainer's loss and meta-gradient (tiny default config) for both models."""
  config = tiny_config(batch_size=4)
  exp = experiment_lib.build(config)
  dense = exp.model("learned")
  split = ShardedNetwork(dense.rule, dense.topology, dense.aggregation, jax.devices()[:DEVICES])
  params = perturbed(dense.init_params(jax.random.PRNGKey(0)), jax.random.PRNGKey(9), 0.1)
  rng = jax.random.PRNGKey(10)

  def value_and_grad(model):
    grad_fn = meta.make_grad_fn(model, exp.task, config)
    (loss, _), grads = jax.jit(grad_fn)(params, rng)
    return loss, grads

  (loss_a, grads_a), (loss_b, grads_b) = value_and_grad(dense), value_and_grad(split)
  episodes, _ = meta.sample_shard(exp.task, config, rng)
  assert model_inputs(exp.task, split, episodes).shape[2] == dense.num_neurons
  return {
    "loss": abs(float(loss_a) - float(loss_b)),
    "grad": max_diff(grads_a, grads_b),
    "grad_scale": max(float(np.max(np.abs(g))) for g in jax.tree.leaves(grads_a)),
  }


def trainer_check() -> dict:
  """2 meta-steps of the real trainer, train.model_parallel 4 vs 1, same seed."""

  def train(model_parallel: int):
    config = tiny_config(num_steps=2, num_devices=1, model_parallel=model_parallel)
    trainer.validate(config)
    model = experiment_lib.build(config).model("learned")
    with tempfile.TemporaryDirectory() as workdir:
      result = trainer.meta_train(config, workdir)
    return result, model

  (one, dense), (four, split) = train(1), train(DEVICES)
  return {
    "params": max_diff(one.params, four.params),
    "model_types": [type(dense).__name__, type(split).__name__],
    "mesh_devices": split.num_devices,
    "loss": abs(one.history[-1]["loss"] - four.history[-1]["loss"]),
  }


def config_errors() -> dict:
  """The ConfigError message (or '') of each train.* setting, validated like the trainer does."""
  settings = {
    "batch_split_too": dict(model_parallel=DEVICES, num_devices=-1),
    "indivisible": dict(model_parallel=3, num_devices=1),
    "ok": dict(model_parallel=DEVICES, num_devices=1),
  }
  messages = {}
  for name, train in settings.items():
    try:
      experiment_lib.validate(tiny_config(**train))
      messages[name] = ""
    except ConfigError as error:
      messages[name] = str(error)
  return messages


def bench_check() -> dict:
  """The scaling benchmark at a tiny size: every variant runs, agrees, and the note is printed."""
  options = study_config(
    "bench_sharding", sizes=(8,), devices=(1, 2, 4), batch=1, steps=2, repeats=1
  )
  report = bench_sharding.measure(options)
  return {
    "variants": [row["variant"] for row in report["rows"]],
    "max_logit_diff": max(row["max_logit_diff"] for row in report["rows"]),
    "notes_shared_cores": "not a speed-up" in bench_sharding.format_report(report),
  }


def main():
  assert jax.local_device_count() == DEVICES, jax.devices()
  assert parallel.AXIS != "model"
  report = {
    "episodes": {
      f"{aggregation}_remat{int(remat)}": episodes_check(aggregation, remat)
      for aggregation, remat in (("mean", False), ("sum", 2))
    },
    "step": step_check(),
    "gradient": gradient_check(),
    "trainer": trainer_check(),
    "config_errors": config_errors(),
    "bench": bench_check(),
  }
  json.dump(report, sys.stdout)


if __name__ == "__main__":
  main()
