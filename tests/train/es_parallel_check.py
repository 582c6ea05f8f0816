"""Run with 2 forced CPU devices: 3 ES generations on 1 device vs 2 devices, same total batch."""

import json
import sys

import jax
import numpy as np

from learned_rules import experiment as experiment_lib
from learned_rules.train import es, parallel
from tests.train.helpers import tiny_config


def train(num_devices: int, generations: int = 3):
  config = tiny_config(num_devices=num_devices, batch_size=4, estimator="es")
  with config.unlocked():
    config.train.es.population_size = 8
  experiment = experiment_lib.build(config)
  model = experiment.model("learned")
  devices = parallel.select_devices(num_devices)
  step = es.make_parallel_train_step(model, experiment.task, config, devices)
  state = parallel.replicate(es.init_state(model, config), devices)
  losses = []
  for _ in range(generations):
    state, values = step(state)
    losses.append(float(values["loss"][0]))
  replicas_agree = all(
    np.array_equal(np.asarray(x)[0], np.asarray(x)[-1]) for x in jax.tree.leaves(state)
  )
  return parallel.unreplicate(state), losses, replicas_agree


def main():
  assert jax.local_device_count() == 2, jax.devices()
  one, losses_one, _ = train(1)
  two, losses_two, agree = train(2)
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
