"""Meta-training at several network sizes in one run, K proportional to N (issue 9; our design).

`train.extra_sizes = (16, 48)` on a config of N = 32 visible neurons (`task.pattern_bits`) adds, to
every meta-step, a batch of the same task at N = 16 and one at N = 48, with the loads scaled by
N' / N (k_min and k_max rounded, at least 1): one set of meta-parameters is asked to serve every
size at loads that grow with it, instead of being trained at one N and moved to others. The
step's loss and gradient are the plain mean over the sizes (each a mean over its bits, so the
sizes weigh alike); the metrics are the main size's, plus `hidden_bit_accuracy_n<N'>` per extra
size. The rule's meta-parameters do not depend on N (they are shared by every neuron and
synapse), so every size trains the same parameters.

Supported with back-propagation (`train.estimator='bptt'`) on the remember task, without a load
curriculum and with `train.model_parallel=1`; anything else is a ConfigError naming the key.
"""

import jax
import jax.numpy as jnp
import ml_collections

from learned_rules import experiment
from learned_rules.common.errors import ConfigError


def extra_sizes(train_config) -> tuple:
  return tuple(train_config.get("extra_sizes", ()) or ())


def scaled_load(k: int, factor: float) -> int:
  return max(1, int(round(k * factor)))


def sized_config(config, n: int) -> ml_collections.ConfigDict:
  """`config` with N = n visible neurons and the loads scaled by n / N; no extra sizes itself."""
  sized = ml_collections.ConfigDict(config.to_dict())
  factor = n / config.task.pattern_bits
  with sized.unlocked():
    sized.task.pattern_bits = n
    sized.task.k_min = scaled_load(config.task.k_min, factor)
    sized.task.k_max = scaled_load(config.task.k_max, factor)
    sized.train.extra_sizes = ()
  return sized


def validate(config) -> None:
  """train.extra_sizes: distinct positive integers other than N, on a setup that supports them."""
  sizes = extra_sizes(config.train)
  if not sizes:
    return
  key = f"train.extra_sizes={sizes!r}"
  if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 2 for n in sizes):
    raise ConfigError(f"{key}: must be integers >= 2 (numbers of visible neurons).")
  if len(set(sizes)) != len(sizes) or config.task.pattern_bits in sizes:
    raise ConfigError(
      f"{key}: sizes must be distinct and differ from task.pattern_bits="
      f"{config.task.pattern_bits} (the main size, always trained)."
    )
  if config.task.name != "remember":
    raise ConfigError(f"{key}: only task.name='remember' scales with N; got {config.task.name!r}.")
  if config.train.get("estimator", "bptt") != "bptt":
    raise ConfigError(f"{key}: only train.estimator='bptt' trains several sizes.")
  if config.train.get("curriculum_threshold", 0.0) > 0:
    raise ConfigError(f"{key}: not with a load curriculum (train.curriculum_threshold > 0).")
  if experiment.model_parallel(config) != 1:
    raise ConfigError(f"{key}: not with train.model_parallel > 1.")
  for n in sizes:
    try:
      experiment.validate(sized_config(config, n))
    except ConfigError as error:
      raise ConfigError(f"{key}: at N = {n}: {error}") from None


def make_grad_fn(config, model_name: str, make_one, main_grad_fn):
  """The meta-step's grad_fn over the main size and every extra size (mean loss and gradient).

  `make_one(model, task, sized_config)` builds one size's grad_fn (`meta.make_grad_fn` with the
  run's axis and shard count); `main_grad_fn` is the main size's, already built.
  """
  sizes = extra_sizes(config.train)
  if not sizes:
    return main_grad_fn
  others = []
  for n in sizes:
    exp = experiment.build(sized_config(config, n))
    others.append((n, make_one(exp.model(model_name), exp.task, exp.config)))

  def grad_fn(params, rng, curriculum=None):
    keys = jax.random.split(rng, len(others) + 1)
    (loss, metrics), grads = main_grad_fn(params, keys[0], curriculum)
    losses, all_grads = [loss], [grads]
    for (n, one), key in zip(others, keys[1:], strict=True):
      (loss_n, metrics_n), grads_n = one(params, key)
      losses.append(loss_n)
      all_grads.append(grads_n)
      metrics = metrics | {f"hidden_bit_accuracy_n{n}": metrics_n["hidden_bit_accuracy"]}
    mean_loss = jnp.mean(jnp.stack(losses))
    mean_grads = jax.tree.map(lambda *g: sum(g) / len(g), *all_grads)
    return (mean_loss, metrics | {"loss": mean_loss}), mean_grads

  return grad_fn
