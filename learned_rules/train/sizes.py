"""Several task variants in one meta-step: other network sizes, exact-load layouts.

Our design, two keys of the `train` block, alone or together:

- `train.extra_sizes = (16, 48)` on a config of N = 32 visible neurons (`task.pattern_bits`) adds
  batches of the same task at N = 16 and N = 48, with the loads scaled by N' / N (k_min and k_max
  rounded, at least 1): one set of meta-parameters is asked to serve every size at loads that
  grow with it, instead of being trained at one N and moved to others.
- `train.exact_loads = (1, 2, 4, 8)` replaces the k_min..k_max grid (K patterns in k_max slots,
  the rest blank) by one batch per load K on its own K-slot layout: no blank slots, so neither a
  quiet start nor a long delay can be leaned on, as in a stream. Scaled by N' / N at the extra
  sizes. Each load has its own episode length, so each is its own program (compiled once).

Every variant gets a full batch (`train.batch_size`) of its own episodes; the step's loss and
gradient are the plain mean over the variants (each a mean over its bits, so they weigh alike).
The rule's meta-parameters do not depend on N or K (shared by every neuron and synapse), so every
variant trains the same parameters. Metrics: the first variant's under the usual names, plus
`hidden_bit_accuracy_<variant>` for each (`n48`, `k4`, `n48_k8`).

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


def exact_loads(train_config) -> tuple:
  return tuple(train_config.get("exact_loads", ()) or ())


def scaled_load(k: int, factor: float) -> int:
  return max(1, int(round(k * factor)))


def sized_config(config, n: int, load: int | None = None) -> ml_collections.ConfigDict:
  """`config` at N = n visible neurons, loads scaled by n / N (or exactly `load` scaled, on a
  `load`-slot layout); a single variant (no extra sizes or exact loads of its own)."""
  sized = ml_collections.ConfigDict(config.to_dict())
  factor = n / config.task.pattern_bits
  with sized.unlocked():
    sized.task.pattern_bits = n
    if load is None:
      sized.task.k_min = scaled_load(config.task.k_min, factor)
      sized.task.k_max = scaled_load(config.task.k_max, factor)
    else:
      sized.task.k_min = sized.task.k_max = scaled_load(load, factor)
    sized.train.extra_sizes = ()
    sized.train.exact_loads = ()
  return sized


def variants(config) -> list:
  """[(label, config)] of every variant a meta-step trains; [('', config)] for a plain run."""
  sizes, loads = extra_sizes(config.train), exact_loads(config.train)
  if not sizes and not loads:
    return [("", config)]
  main = config.task.pattern_bits
  out = []
  for n in (main, *sizes):
    size_label = "" if n == main else f"n{n}"
    for load in loads or (None,):
      label = "_".join(x for x in (size_label, "" if load is None else f"k{load}") if x)
      out.append((label, sized_config(config, n, load)))
  return out


def _check_ints(key: str, values: tuple, low: int, what: str) -> None:
  if not all(isinstance(v, int) and not isinstance(v, bool) and v >= low for v in values):
    raise ConfigError(f"{key}={values!r}: must be integers >= {low} ({what}).")
  if len(set(values)) != len(values):
    raise ConfigError(f"{key}={values!r}: must be distinct.")


def validate(config) -> None:
  """train.extra_sizes, train.exact_loads: distinct integers, on a setup that supports them."""
  sizes, loads = extra_sizes(config.train), exact_loads(config.train)
  if not sizes and not loads:
    return
  if sizes:
    _check_ints("train.extra_sizes", sizes, 2, "neurons")
    if config.task.pattern_bits in sizes:
      raise ConfigError(
        f"train.extra_sizes={sizes!r}: sizes must differ from task.pattern_bits="
        f"{config.task.pattern_bits} (the main size, always trained)."
      )
  if loads:
    _check_ints("train.exact_loads", loads, 1, "patterns per episode")
  key = f"train.extra_sizes={sizes!r}" if sizes else f"train.exact_loads={loads!r}"
  if config.task.name != "remember":
    raise ConfigError(f"{key}: only task.name='remember' has these variants.")
  if config.train.get("estimator", "bptt") != "bptt":
    raise ConfigError(f"{key}: only train.estimator='bptt' trains several variants.")
  if config.train.get("curriculum_threshold", 0.0) > 0:
    raise ConfigError(f"{key}: not with a load curriculum (train.curriculum_threshold > 0).")
  if experiment.model_parallel(config) != 1:
    raise ConfigError(f"{key}: not with train.model_parallel > 1.")
  for label, variant in variants(config):
    try:
      experiment.validate(variant)
    except ConfigError as error:
      raise ConfigError(f"{key}: variant {label}: {error}") from None


def make_grad_fn(config, model, task, make_one):
  """The meta-step's grad_fn: `make_one(model, task, config)` for a plain run, else the mean loss
  and gradient over every variant, each built by `make_one` (`meta.make_grad_fn` with the run's
  axis and shard count) on its own task and network."""
  all_variants = variants(config)
  if len(all_variants) == 1:
    return make_one(model, task, config)
  built = []
  for label, variant in all_variants:
    exp = experiment.build(variant)
    built.append((label, make_one(exp.model(config.rule.name), exp.task, exp.config)))

  def grad_fn(params, rng, curriculum=None):
    keys = jax.random.split(rng, len(built))
    losses, all_grads, metrics = [], [], {}
    for (label, one), key in zip(built, keys, strict=True):
      (loss, variant_metrics), grads = one(params, key)
      losses.append(loss)
      all_grads.append(grads)
      if not metrics:
        metrics = dict(variant_metrics)
      if label:
        metrics[f"hidden_bit_accuracy_{label}"] = variant_metrics["hidden_bit_accuracy"]
    mean_loss = jnp.mean(jnp.stack(losses))
    mean_grads = jax.tree.map(lambda *g: sum(g) / len(g), *all_grads)
    return (mean_loss, metrics | {"loss": mean_loss}), mean_grads

  return grad_fn
