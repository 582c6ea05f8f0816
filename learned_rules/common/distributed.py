"""Multi-process runs: connect this process to the others before jax starts its devices."""

import jax
from absl import logging

from learned_rules.common.errors import ConfigError


def initialize(distributed_config) -> None:
  """`jax.distributed.initialize` from a config's `distributed` block; a no-op unless enabled.

  Must run before anything starts jax's backend (asks for devices, creates an array: some
  libraries do at import time), so entry points call it first; a second call is a no-op. On CPU
  the processes' collectives go through gloo (jax's default `jax_cpu_collectives_implementation`),
  so a multi-process run also works on one machine with a coordinator on 127.0.0.1.
  """
  if distributed_config is None or not distributed_config.enabled:
    return
  if jax.distributed.is_initialized():
    return
  kwargs = {}
  if distributed_config.coordinator_address:
    kwargs["coordinator_address"] = distributed_config.coordinator_address
  if distributed_config.num_processes > 0:
    kwargs["num_processes"] = distributed_config.num_processes
  if distributed_config.process_id >= 0:
    kwargs["process_id"] = distributed_config.process_id
  try:
    jax.distributed.initialize(**kwargs)
  except (ValueError, TypeError) as error:  # what jax raises for missing or bad arguments
    raise ConfigError(
      f"distributed.enabled=True: {error} Outside a TPU pod or SLURM, set "
      "distributed.coordinator_address, distributed.num_processes and distributed.process_id."
    ) from None
  except RuntimeError as error:  # jax's backend already started in this process
    raise ConfigError(
      f"distributed.enabled=True: {error} Run through experiments.main (it connects first), or "
      "call learned_rules.common.distributed.initialize before importing the trainer."
    ) from None
  logging.info(
    "distributed: process %d of %d, %d local / %d global devices",
    jax.process_index(),
    jax.process_count(),
    jax.local_device_count(),
    jax.device_count(),
  )
