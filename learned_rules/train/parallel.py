"""Data-parallel meta-training with `jax.pmap`: one device is the same code with a 1-device axis.

Every device holds a replica of the TrainState (leading axis = local devices), samples its own
shard of the step's batch (`meta.sample_shard`, so the episodes do not depend on the device
count) and gradients are averaged with `lax.pmean` before the shared update. Across hosts the
pmap axis spans every device of every process once `jax.distributed.initialize` has run.
"""

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from learned_rules.common import distributed
from learned_rules.common.tracing import trace_guard
from learned_rules.train import meta

AXIS = "batch"  # the pmap axis the batch is split along


def initialize_distributed(distributed_config) -> None:
  """Multi-host: connects this process to the others (no-op unless `distributed.enabled`).

  See `learned_rules.common.distributed.initialize`: it must run before jax starts its devices.
  """
  distributed.initialize(distributed_config)


def select_devices(num_devices: int) -> list:
  """The local devices to train on: all of them (-1) or the first `num_devices`."""
  devices = jax.local_devices()
  if num_devices == -1:
    return devices
  if jax.process_count() > 1:
    raise ValueError("train.num_devices must be -1 (all devices) in a multi-host run.")
  if not 1 <= num_devices <= len(devices):
    raise ValueError(
      f"train.num_devices={num_devices}: this machine has {len(devices)} "
      f"{devices[0].platform} device(s); use -1 for all."
    )
  return devices[:num_devices]


def num_shards(devices) -> int:
  """How many ways the batch is split: every device of every process."""
  return len(devices) * jax.process_count()


def _pmap_devices(devices):
  """Multi-host pmap wants devices=None (every device of every process); one host, the list."""
  return None if jax.process_count() > 1 else devices


def _one_device(devices) -> bool:
  return len(devices) == 1 and jax.process_count() == 1


def make_parallel_train_step(grad_fn, optimizer, devices, poison_step: int = -1, mesh=None):
  """The meta-step pmapped over `devices`, state donated, traced once (a retrace raises).

  `mesh`: the device mesh of a model split over several devices by its own `shard_map`
  (`ShardedNetwork.mesh`, `train.model_parallel`). Such a model runs inside a jit but not inside
  a pmap, so its step is `jit(vmap(...))` over the same 1-long batch axis (one data-parallel
  device; the collectives see an axis of size 1 either way), with the state replicated over the
  mesh. It takes and returns the same replicated state as the pmapped step.
  """
  body = meta.make_step_body(optimizer, grad_fn=grad_fn, axis_name=AXIS, poison_step=poison_step)
  if mesh is not None:
    if not _one_device(devices):
      raise ValueError(
        f"a model split over {mesh.size} devices trains on one data-parallel device, "
        f"not {num_shards(devices)}: set train.num_devices=1."
      )
    # Every device of the mesh holds the state.
    return compile_step(body, devices, NamedSharding(mesh, PartitionSpec()))
  return compile_step(body, devices)


def compile_step(body, devices, placement=None):
  """`body` (state -> state, metrics; collectives over AXIS) as a step over replicated states.

  Without `placement`: pmapped over `devices`. With it (a sharding): a jit of a vmap over the
  1-long replica axis, state and outputs kept on `placement`; the state is put there first,
  since `replicate` leaves it on the first device. Either way the state is donated and a retrace
  raises (trace_guard).
  """
  if placement is None:
    return jax.pmap(
      trace_guard(body, 1), axis_name=AXIS, devices=_pmap_devices(devices), donate_argnums=(0,)
    )
  step = jax.jit(
    jax.vmap(trace_guard(body, 1), axis_name=AXIS),
    in_shardings=placement,
    out_shardings=placement,
    donate_argnums=(0,),
  )
  return lambda state: step(jax.device_put(state, placement))


def replicate(tree, devices):
  """Host pytree -> one copy per device along a new leading axis, placed as pmap places it."""
  stacked = jax.tree.map(lambda x: np.stack([np.asarray(x)] * len(devices)), tree)
  # Through an identity pmap, so the first step sees the same placement as every later one.
  return jax.pmap(lambda x: x, axis_name=AXIS, devices=_pmap_devices(devices))(stacked)


def unreplicate(tree):
  """Device replicas -> the first one, as host numpy arrays."""
  return jax.tree.map(lambda x: np.asarray(x[0]), tree)
