"""Run with 2 forced CPU devices: 3 outer steps on 1 device vs 2 devices, same total batch.

python -m tests.train.parallel_check [bptt|es]     # meta-steps (default) or ES generations
"""

import json
import sys

import jax
import numpy as np

from learned_rules import experiment as experiment_lib
from learned_rules.train import es, meta, parallel
from tests.train.helpers import tiny_config


def make_step(estimator: str, num_devices: int):
  """(parallel step, replicated initial state) of the tiny config for `estimator`."""
  devices = parallel.select_devices(num_devices)
  if estimator == "es":
    config = tiny_config(num_devices=num_devices, batch_size=4, estimator="es")
    with config.unlocked():
      config.train.es.population_size = 8
    experiment = experiment_lib.build(config)
    model = experiment.model("learned")
    step = es.make_parallel_train_step(model, experiment.task, config, devices)
    return step, parallel.replicate(es.init_state(model, config), devices)
  config = tiny_config(num_devices=num_devices, batch_size=4, learning_rate=1e-2, warmup_steps=1)
  experiment = experiment_lib.build(config)
  network = experiment.network("learned")
  optimizer = meta.make_optimizer(config.train)
  shards = parallel.num_shards(devices)
  grad_fn = meta.make_grad_fn(network, experiment.task, config, parallel.AXIS, shards)
  step = parallel.make_parallel_train_step(grad_fn, optimizer, devices)
  return step, parallel.replicate(meta.init_train_state(network, optimizer, 0), devices)


def train(estimator: str, num_devices: int, steps: int = 3):
  step, state = make_step(estimator, num_devices)
  losses = []
  for _ in range(steps):
    state, values = step(state)
    losses.append(float(values["loss"][0]))
  replicas_agree = all(
    np.array_equal(np.asarray(x)[0], np.asarray(x)[-1]) for x in jax.tree.leaves(state)
  )
  return parallel.unreplicate(state), losses, replicas_agree


def main():
  estimator = sys.argv[1] if len(sys.argv) > 1 else "bptt"
  assert jax.local_device_count() == 2, jax.devices()
  one, losses_one, _ = train(estimator, 1)
  two, losses_two, agree = train(estimator, 2)
  diffs = [
    float(np.max(np.abs(a - b)))
    for a, b in zip(jax.tree.leaves(one.params), jax.tree.leaves(two.params), strict=True)
  ]
  json.dump(
    {
      "max_param_diff": max(diffs),
      "losses_one": losses_one,
      "losses_two": losses_two,
      "replicas_agree": agree,
      "step": int(two.step),
    },
    sys.stdout,
  )


if __name__ == "__main__":
  main()
