"""Training-step wall time of TVAE rows: `measure(configs)` times the trainer's jitted step.

Each row is timed as `train.train_and_evaluate` runs it (the same `make_train_step`: sequences
built in JAX, forward, backward, one optimizer update), compiled and warmed up first, then the
median of `repeats` steps. Rows are measured one after another in the calling process, so their
ratios to the row named 'VAE' compare like with like on the same machine and load.
"""

import statistics
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from learned_rules.tvae import model as model_lib
from learned_rules.tvae import train as train_lib

BASELINE = "VAE"  # the row every ratio is taken against
WARMUP_STEPS = 2  # steps run after compilation before any is timed


def step_seconds(config: ml_collections.ConfigDict, batch_size: int, repeats: int) -> list[float]:
  """Seconds of each of `repeats` timed training steps of one config at `batch_size`."""
  config = ml_collections.ConfigDict(config.to_dict())  # a copy; the caller's stays as it was
  config.batch_size = batch_size
  train_lib.validate(config)
  source = train_lib.SequenceSource(config)
  model = train_lib.make_model(config, source.n_pixels)
  optimizer = train_lib.make_optimizer(config)
  key, init_key = jax.random.split(jax.random.PRNGKey(config.seed))
  params = model_lib.init_params(init_key, model, config.data.seq_len)
  state = train_lib.TrainState(
    step=jnp.zeros((), jnp.int32), params=params, opt_state=optimizer.init(params), key=key
  )
  train_step = train_lib.make_train_step(model, optimizer, source)
  items = source.train_items
  batches = [
    jnp.asarray(items[np.arange(i * batch_size, (i + 1) * batch_size) % len(items)])
    for i in range(WARMUP_STEPS + repeats)
  ]
  seconds = []
  for i, batch in enumerate(batches):
    start = time.perf_counter()
    state, aux = train_step(state, batch, source.table)
    jax.block_until_ready((state, aux))
    if i >= WARMUP_STEPS:
      seconds.append(time.perf_counter() - start)
  return seconds


def measure(
  configs: dict[str, ml_collections.ConfigDict], batch_size: int = 8, repeats: int = 5
) -> list[dict]:
  """Per row: {'name', 'variant', 'step_seconds' (median), 'all_seconds', 'ratio_to_vae'}.

  `ratio_to_vae` is the row's median over the median of the row named 'VAE' in `configs`
  (None when there is no such row).
  """
  if repeats < 1:
    raise ValueError(f"repeats={repeats}: must be at least 1")
  rows = []
  for name, config in configs.items():
    seconds = step_seconds(config, batch_size, repeats)
    rows.append(
      {
        "name": name,
        "variant": config.model.variant,
        "batch_size": batch_size,
        "step_seconds": statistics.median(seconds),
        "all_seconds": seconds,
      }
    )
  baseline = next((r["step_seconds"] for r in rows if r["name"] == BASELINE), None)
  for row in rows:
    row["ratio_to_vae"] = None if baseline is None else row["step_seconds"] / baseline
  return rows
