r"""How one network's forward pass scales with the number of devices it is split over.

  python -m experiments.study --config=configs/studies/bench_sharding.py
  python -m experiments.study --config=configs/studies/bench_sharding.py "--config.sizes=(64,)" \
    --config.repeats=1

On a CPU-only machine this config forces 4 host devices (XLA_FLAGS, set here, before jax
starts, unless XLA_FLAGS already forces a count); they share the machine's cores, so the table
shows the overhead of splitting a network, not a speed-up.
"""

import os

from configs.studies import common

FORCE_FLAG = "--xla_force_host_platform_device_count"
if FORCE_FLAG not in os.environ.get("XLA_FLAGS", ""):  # loaded before the study imports jax
  os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {FORCE_FLAG}=4".strip()


def get_config():
  config = common.study("bench_sharding", "results/bench_sharding.jsonl")
  del config["bases"]
  config.sizes = (256, 512)  # numbers of neurons N (fully connected)
  config.devices = (1, 2, 4)  # device counts the network is split over
  config.batch = 2  # episodes per forward
  config.steps = 8  # online steps per episode
  config.repeats = 5  # timed runs per variant (medians)
  config.seed = 0  # seed of the inputs and parameters
  return config
