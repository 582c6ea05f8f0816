"""The points of a sweep and the remember config of each: pure functions of the sweep config.

A sweep config (configs/sweep_common.py) has `groups`; every group is a Cartesian product of
rules x variants x topologies x sizes x loads x cue fractions x delays. A rule with
meta-parameters is meta-trained once per train spec (rule, variant, train topology, train size,
...) and then evaluated at every point of its group without retraining (transfer to other sizes
and topologies included); a rule without them (a hand-written one) is evaluated directly. Every
point is laid out on max(K, layout_k) pattern slots (blank slots first), the same for every rule,
so a rule trained with K <= layout_k is evaluated on the layout it was trained on. Sizes are D,
the number of visible bits: N = D for fully connected and sparse networks, N = 2 D + hidden for
layered ones; the load is alpha = K / D.

A variant is a comma-separated list of overrides of keys that exist in the remember config
('rule.synapse_state_size=1,aggregation=sum'), plus the sweep's own `lstm_match=params|state`
(rule.lstm_hidden_size matched to the learned rule's meta-parameter count or state floats on the
same network). Any other key is a ConfigError naming it.
"""

import dataclasses
import hashlib
import json
import math

import jax

from learned_rules import experiment, rules
from learned_rules.baselines import lstm as lstm_lib
from learned_rules.common import overrides
from learned_rules.common.errors import ConfigError
from learned_rules.dynamics import Network

LSTM_MATCH = "lstm_match"  # the one variant key that is the sweep's, not the remember config's
LSTM_MATCHES = ("params", "state")
LEGACY_FREE_WEIGHT = 0.25  # rule.free_weight's default when those records were written
FREE_WEIGHT = "rule.free_weight"  # legacy records: 'X' + this variant is today's rule 'X_cued'


def point_key(point: dict) -> str:
  """The identity of a point (or train spec) in the records: its JSON with sorted keys."""
  return json.dumps(point, sort_keys=True)


def short_hash(text: str) -> str:
  return hashlib.sha1(text.encode()).hexdigest()[:12]


def parse_variant(text: str) -> dict:
  """'rule.synapse_state_size=1,aggregation=sum' -> {'rule.synapse_state_size': 1, ...}."""
  overrides = {}
  for item in filter(None, (part.strip() for part in text.split(","))):
    if "=" not in item:
      raise ConfigError(f"variant {text!r}: {item!r} is not of the form key=value.")
    key, value = item.split("=", 1)
    try:
      overrides[key] = json.loads(value)
    except json.JSONDecodeError:
      overrides[key] = value
  return overrides


def num_for_load(size: int, load: float) -> int:
  return max(1, int(round(load * size)))


@dataclasses.dataclass(frozen=True)
class RuleKind:
  trained: bool  # the model has meta-parameters: meta-train it before evaluating
  has_neurons: bool  # runs on a topology (False: a model such as the LSTM, fixed input size)


_RULE_KINDS: dict = {}


def rule_kind(rule: str, config) -> RuleKind:
  """What the sweep must do with `rule`, read off the model the rules registry builds on the
  sweep's base config (`config.bases.remember`); cached per rule."""
  if rule not in _RULE_KINDS:
    rules.RULES.check(rule)
    model = experiment.build(config.bases.remember.copy_and_resolve_references()).model(rule)
    shapes = jax.eval_shape(model.init_params, jax.random.PRNGKey(0))
    _RULE_KINDS[rule] = RuleKind(
      trained=bool(jax.tree.leaves(shapes)), has_neurons=isinstance(model, Network)
    )
  return _RULE_KINDS[rule]


def points(config) -> list[dict]:
  """Every evaluation point of the sweep, in a fixed order (trained rules grouped together)."""
  out = []
  for group_name in sorted(config.groups.keys()):
    group = config.groups[group_name]
    for rule in group.rules:
      kind = rule_kind(rule, config)
      for variant in group.variants:
        for train_topology in group.train_topologies if kind.trained else (None,):
          for topo in group.topologies:
            for size in group.sizes:
              if not kind.has_neurons and (size != group.train_size or topo != train_topology):
                continue  # a model without neurons: fixed input size, topologies do not apply
              ks = sorted({num_for_load(size, load) for load in group.loads})
              ks = [k for k in ks if k <= group.max_k]
              for k in ks:
                for cue in group.hidden_fractions:
                  for delay in group.delays:
                    point = {
                      "group": group_name,
                      "rule": rule,
                      "variant": variant,
                      "topology": topo,
                      "size": size,
                      "k": k,
                      "hidden_fraction": cue,
                      "delay": delay,
                      "slots": max(k, group.layout_k),
                    }
                    if kind.trained:
                      point["train"] = train_spec(group, variant, train_topology, rule)
                    out.append(point)
  return out


def train_spec(group, variant: str, topo: str, rule: str) -> dict:
  """What identifies one meta-trained rule (its key names its parameters file and workdir)."""
  return {
    "rule": rule,
    "variant": variant,
    "topology": topo,
    "size": group.train_size,
    "k_min": group.train_k[0],
    "k_max": group.train_k[1],
    "num_steps": group.train_steps,
    "batch_size": group.train_batch_size,
    "learning_rate": group.train_learning_rate,
    "max_seconds": group.train_max_seconds,
    "seed": group.seed,
  }


def set_key(config, dotted: str, value, source: str) -> None:
  """config[dotted] = value for a key of the remember config; else ConfigError."""
  overrides.set_key(config, dotted, value, source, f" (the remember config; or '{LSTM_MATCH}')")


def experiment_config(
  config,
  rule: str,
  variant: str,
  topo: str,
  size: int,
  k_min: int,
  k_max: int,
  hidden_fraction=None,
  delay=None,
):
  """The remember config of one point: the base config, the point's axes, the variant."""
  base = config.bases.remember.copy_and_resolve_references()
  base.lock()  # the variant may set only keys that exist
  base.task.pattern_bits = size
  base.task.k_min, base.task.k_max = k_min, k_max
  base.task.loss_steps = "all"  # every recall step scored, as the committed sweeps were trained
  if hidden_fraction is not None:
    base.task.hidden_fraction = hidden_fraction
  if delay is not None:
    base.task.delay_steps = delay
  base.topology.name = topo
  base.topology.hidden_sizes = (int(round(config.layered_hidden_ratio * size)),)
  base.topology.fan_in = max(2, int(round(config.sparse_fan_in_ratio * size)))
  base.rule.name = rule
  overrides = parse_variant(variant)
  match = overrides.pop(LSTM_MATCH, None)
  for dotted, value in overrides.items():
    set_key(base, dotted, value, f"variant {variant!r}")
  base.eval.k = k_max
  if match is not None:
    base.rule.lstm_hidden_size = lstm_hidden_for(base, match)
  return base


def train_config(config, spec: dict):
  """The remember config that meta-trains the rule of train spec `spec` (checkpoints and all)."""
  exp_config = experiment_config(
    config,
    spec["rule"],
    spec["variant"],
    spec["topology"],
    spec["size"],
    spec["k_min"],
    spec["k_max"],
  )
  exp_config.seed = spec["seed"]
  exp_config.train.num_steps = spec["num_steps"]
  exp_config.train.batch_size = spec["batch_size"]
  exp_config.train.learning_rate = spec["learning_rate"]
  exp_config.train.max_seconds = float(spec["max_seconds"])
  exp_config.train.log_every = config.log_every
  exp_config.train.checkpoint_every = config.checkpoint_every
  return exp_config


def lstm_hidden_for(config, match: str) -> int:
  """LSTM width matched to the learned rule on the same network: 'params' or 'state'."""
  if match not in LSTM_MATCHES:
    raise ConfigError(f"{LSTM_MATCH}={match!r}: expected one of {LSTM_MATCHES}.")
  exp = experiment.build(config)
  if match == "params":
    shapes = jax.eval_shape(exp.model("learned").init_params, jax.random.PRNGKey(0))
    count = sum(math.prod(x.shape) for x in jax.tree.leaves(shapes))
    return lstm_lib.lstm_size_for_params(exp.task.num_visible, count)
  return lstm_lib.lstm_size_for_state(exp.state_floats("learned"))


def validate(config) -> None:
  """Every group's rules are registered and its variants set only existing keys (ConfigError)."""
  for group_name in sorted(config.groups.keys()):
    group = config.groups[group_name]
    try:
      for rule in group.rules:
        trained = rule_kind(rule, config).trained
        for variant in group.variants:
          if trained:
            train_config(config, train_spec(group, variant, group.train_topologies[0], rule))
          else:
            experiment_config(
              config, rule, variant, group.topologies[0], group.sizes[0], 1, group.layout_k
            )
    except ConfigError as error:
      raise ConfigError(f"groups.{group_name}: {error}") from None


def canonical(point: dict) -> dict:
  """A point or train spec in today's spelling of its rule.

  Records written before the *_cued rules were registered spell one as the plain rule with a
  'rule.free_weight=w' variant; today that is rule 'X_cued' (w = the default: no variant).
  """
  overrides = parse_variant(point.get("variant") or "")
  cued = f"{point.get('rule')}_cued"
  if FREE_WEIGHT not in overrides or cued not in rules.RULES:
    return point
  default = {FREE_WEIGHT: LEGACY_FREE_WEIGHT}
  kept = [i for i in point["variant"].split(",") if i.strip() and parse_variant(i) != default]
  return {**point, "rule": cued, "variant": ",".join(kept)}


def canonical_key(key: str) -> str:
  """`canonical` on a record's key (a point's, or {'train': spec} for a meta-training record)."""
  point = json.loads(key)
  if "train" in point and "rule" not in point:
    return point_key({"train": canonical(point["train"])})
  return point_key(canonical(point))
