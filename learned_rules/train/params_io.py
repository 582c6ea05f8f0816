"""Meta-parameters on disk: `meta_params.msgpack` (flax msgpack of the parameter pytree), written
at the end of a run and read to evaluate a rule or warm-start another run."""

import os

import flax.serialization
import jax
import numpy as np

from learned_rules.common.errors import UserError
from learned_rules.train import es, meta

PARAMS_FILE = "meta_params.msgpack"


def save_params(path: str, params) -> None:
  """Writes `params` to `path` as msgpack, atomically (a crash leaves the old file or none)."""
  tmp = path + ".tmp"
  with open(tmp, "wb") as f:
    f.write(flax.serialization.to_bytes(params))
  os.replace(tmp, path)


def state_template(config, model):
  """The state a checkpoint of this config holds: BPTT's TrainState or ES's ESState."""
  if es.estimator(config.train) == "es":
    return es.init_state(model, config)
  return meta.init_train_state(model, meta.make_optimizer(config.train), config.seed)


def load_params(path: str, template, key: str = "eval.params_file"):
  """The meta-parameters saved in `path`, checked against `template`; errors name `key`."""
  if not os.path.isfile(path):
    raise UserError(f"{key}={path!r}: no such file (a meta_params.msgpack).")
  with open(path, "rb") as f:
    data = f.read()
  try:  # unpacking fails on a cut-off or foreign file, before any comparison with the rule
    state = flax.serialization.msgpack_restore(data)
  except ValueError:  # msgpack's errors (incomplete input, extra data, ...) are ValueErrors
    state = None
  if not isinstance(state, dict):
    raise UserError(
      f"{key}={path!r} is damaged (truncated or not a meta_params.msgpack file); copy it again "
      "from its training run."
    )
  try:
    params = flax.serialization.from_state_dict(template, state)
  except (ValueError, KeyError, TypeError) as error:
    raise UserError(
      f"{key}={path!r} does not fit this config's rule ({error}); use it with the rule "
      "settings it was trained with (its config.json) and change only task, topology, eval or "
      "train."
    ) from None
  for (where, got), want in zip(
    jax.tree_util.tree_flatten_with_path(params)[0], jax.tree.leaves(template), strict=True
  ):
    if np.shape(got) != np.shape(want):
      raise UserError(
        f"{key}={path!r}: {jax.tree_util.keystr(where)} has shape "
        f"{list(np.shape(got))}, this config's rule needs {list(np.shape(want))}; use it with "
        "the rule settings it was trained with and change only task, topology, eval or train."
      )
  return params
