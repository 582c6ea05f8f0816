r"""Runs a grid of rule evaluations through the same engine and appends one JSON line per point.

  python -m experiments.sweep --config=configs/sweep_handwritten.py
  python -m experiments.sweep --config=configs/sweep_learned.py --config.max_points=10

Resumable: a point whose key is already in the records file is skipped, and a meta-trained rule
whose parameters are already saved is loaded instead of retrained. A sweep config has `groups`;
every group is a Cartesian product of rules x variants x topologies x sizes x loads x cue
fractions x delays. Hand-written rules are evaluated directly; meta-trained ones ('learned',
'frozen', 'lstm') are first trained once per (rule, variant, topology, train size) and then
evaluated at every point of the group without retraining (transfer to other sizes and
topologies included). Every point is laid out on max(K, layout_k) pattern slots (the task's
static grid, blank slots first), the same for every rule, so a rule trained with K <= layout_k
is evaluated on the layout it was trained on; hand-written rules ignore the blank slots. Sizes
are D, the number of visible bits: N = D for fully connected and sparse networks, N = 2 D +
hidden for layered ones; the load is alpha = K / D.
"""

import hashlib
import json
import math
import os
import platform
import sys
import time

import flax.serialization
import jax
import numpy as np
from absl import app, flags, logging
from ml_collections import config_flags

from configs import remember
from learned_rules import evaluation, probes, rules, setup_config
from learned_rules.baselines import lstm as lstm_lib
from learned_rules.train import meta

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Path to a sweep config file.", lock_config=True)

TRAINED = rules.META_TRAINED + ("lstm",)
EVAL_SEED = 10_000  # evaluation episodes never overlap the training streams (seeds < 10_000)


def machine_description(config) -> str:
  return config.machine or f"{os.cpu_count()}-core CPU ({platform.machine()})"


def point_key(point: dict) -> str:
  return json.dumps(point, sort_keys=True)


def short_hash(text: str) -> str:
  return hashlib.sha1(text.encode()).hexdigest()[:12]


def parse_variant(text: str) -> dict:
  """'rule.synapse_state_size=1,aggregation=sum' -> {'rule.synapse_state_size': 1, ...}."""
  overrides = {}
  for item in filter(None, (part.strip() for part in text.split(","))):
    key, value = item.split("=", 1)
    try:
      overrides[key] = json.loads(value)
    except json.JSONDecodeError:
      overrides[key] = value
  return overrides


def num_for_load(size: int, load: float) -> int:
  return max(1, int(round(load * size)))


def points(config) -> list[dict]:
  """Every evaluation point of the sweep, in a fixed order (trained rules grouped together)."""
  out = []
  for group_name in sorted(config.groups.keys()):
    group = config.groups[group_name]
    for rule in group.rules:
      for variant in group.variants:
        for train_topology in group.train_topologies if rule in TRAINED else (None,):
          for topo in group.topologies:
            for size in group.sizes:
              if rule == "lstm" and (size != group.train_size or topo != train_topology):
                continue  # an LSTM's input size is fixed; topologies do not apply
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
                    if rule in TRAINED:
                      point["train"] = train_spec(group, variant, train_topology, rule)
                    out.append(point)
  return out


def train_spec(group, variant: str, topo: str, rule: str) -> dict:
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
  base = remember.get_config()
  with base.unlocked():
    base.task.pattern_bits = size
    base.task.k_min, base.task.k_max = k_min, k_max
    if hidden_fraction is not None:
      base.task.hidden_fraction = hidden_fraction
    if delay is not None:
      base.task.delay_steps = delay
    base.topology.name = topo
    base.topology.hidden_sizes = (int(round(config.layered_hidden_ratio * size)),)
    base.topology.fan_in = max(2, int(round(config.sparse_fan_in_ratio * size)))
    base.rule.name = rule
    overrides = parse_variant(variant)
    match = overrides.pop("lstm_match", None)
    for dotted, value in overrides.items():
      node = base
      *parents, leaf = dotted.split(".")
      for parent in parents:
        node = node[parent]
      if leaf in node and isinstance(node[leaf], tuple):
        value = tuple(value)
      node[leaf] = value
    if rule == "lstm":
      base.rule.lstm_hidden_size = lstm_hidden_for(base, match or "params")
    base.eval.k = k_max
  return base


def lstm_hidden_for(config, match: str) -> int:
  """LSTM width matched to the learned rule on the same network: 'params' or 'state'."""
  learned_config = config.copy_and_resolve_references()
  with learned_config.unlocked():
    learned_config.rule.name = "learned"
  experiment = setup_config.build(learned_config)
  network = experiment.network("learned")
  if match == "params":
    params = network.init_params(jax.random.PRNGKey(0))
    count = sum(int(x.size) for x in jax.tree.leaves(params))
    return lstm_lib.lstm_size_for_params(experiment.task.num_visible, count)
  if match == "state":
    return lstm_lib.lstm_size_for_state(experiment.state_floats("learned"))
  raise ValueError(f"lstm_match={match!r}: expected 'params' or 'state'.")


class Trainer:
  """Meta-trains (or loads) the rule of a train spec; parameters saved under the results dir."""

  def __init__(self, config, write_record):
    self.config = config
    self.write_record = write_record
    self._cache = {}

  def params_path(self, spec: dict) -> str:
    return os.path.join(self.config.params_dir, short_hash(point_key(spec)) + ".msgpack")

  def get(self, spec: dict, done_keys: set):
    key = point_key(spec)
    if key in self._cache:
      return self._cache[key]
    exp_config = experiment_config(
      self.config,
      spec["rule"],
      spec["variant"],
      spec["topology"],
      spec["size"],
      spec["k_min"],
      spec["k_max"],
    )
    with exp_config.unlocked():
      exp_config.seed = spec["seed"]
      exp_config.train.num_steps = spec["num_steps"]
      exp_config.train.batch_size = spec["batch_size"]
      exp_config.train.learning_rate = spec["learning_rate"]
    experiment = setup_config.build(exp_config)
    model = experiment.network(spec["rule"])
    optimizer = meta.make_optimizer(exp_config.train)
    state = meta.init_train_state(model, optimizer, spec["seed"])
    path = self.params_path(spec)
    if os.path.exists(path):
      with open(path, "rb") as f:
        params = flax.serialization.from_bytes(state.params, f.read())
    else:
      params, record = self._train(exp_config, experiment, model, optimizer, state, spec)
      os.makedirs(os.path.dirname(path), exist_ok=True)
      with open(path + ".tmp", "wb") as f:
        f.write(flax.serialization.to_bytes(params))
      os.replace(path + ".tmp", path)
      record["params_file"] = path
      if key not in done_keys:
        self.write_record(record)
    self._cache = {key: params}  # keep one rule in memory
    return params

  def _train(self, exp_config, experiment, model, optimizer, state, spec):
    loss_fn = meta.make_loss_fn(model, experiment.task, exp_config)
    train_step = meta.make_train_step(loss_fn, optimizer)
    num_params = sum(int(x.size) for x in jax.tree.leaves(state.params))
    logging.info("training %s (%d meta-parameters)", point_key(spec), num_params)
    start = time.time()
    history, stopped = [], "num_steps"
    for step in range(1, spec["num_steps"] + 1):
      state, step_metrics = train_step(state)
      if step % 50 == 0 or step == spec["num_steps"]:
        values = {k: float(v) for k, v in step_metrics.items()}
        history.append({"step": step, "seconds": time.time() - start, **values})
        print(
          f"  train step {step}/{spec['num_steps']} loss {values['loss']:.4f} "
          f"hidden acc {values['hidden_bit_accuracy']:.4f} ({time.time() - start:.0f} s)",
          flush=True,
        )
        if not np.isfinite(values["loss"]):
          stopped = f"non-finite loss at step {step}"
          break
        if time.time() - start > spec["max_seconds"]:
          stopped = f"time cap {spec['max_seconds']} s at step {step}"
          break
    record = {
      "kind": "train",
      "key": point_key({"train": spec}),
      "train": spec,
      "num_params": num_params,
      "num_state_floats": experiment.state_floats(spec["rule"]),
      "steps_done": int(state.step),
      "stopped": stopped,
      "wall_s": time.time() - start,
      "history": history,
      "machine": machine_description(self.config),
      "command": command_line(),
    }
    return state.params, record


def command_line() -> str:
  return "python -m experiments.sweep " + " ".join(sys.argv[1:])


def num_episodes_for(config, k: int, hidden_bits: int) -> int:
  """Enough episodes for about `eval_hidden_bits` scored hidden bits, within [min, max]."""
  wanted = math.ceil(config.eval_hidden_bits / max(k * hidden_bits, 1))
  episodes = int(np.clip(wanted, config.eval_min_episodes, config.eval_max_episodes))
  batch = min(config.eval_batch_size, episodes)
  return -(-episodes // batch) * batch, batch


_ORACLE_CACHE = {}


def evaluate_fixed_k(model, params, task, k: int, **kwargs) -> dict:
  """`evaluation.evaluate` with K = k active patterns on a layout of task.config.k_max slots.

  model None: the nearest-stored-pattern oracle. Episodes depend only on (task, k, seed).
  """
  return evaluation.evaluate(model, params, task, num_patterns=k, **kwargs)


def evaluate_point(config, point: dict, params) -> dict:
  exp_config = experiment_config(
    config,
    point["rule"],
    point["variant"],
    point["topology"],
    point["size"],
    point["k"],
    point["slots"],
    point["hidden_fraction"],
    point["delay"],
  )
  experiment = setup_config.build(exp_config)
  task = experiment.task  # layout of point["slots"] slots, K = point["k"] active
  model = experiment.network(point["rule"])
  if params is None:
    params = model.init_params(jax.random.PRNGKey(0))
  hidden_bits = max(1, int(round(point["hidden_fraction"] * point["size"])))
  episodes, batch = num_episodes_for(config, point["k"], hidden_bits)
  start = time.time()
  common = dict(seed=EVAL_SEED, num_episodes=episodes, batch_size=batch)
  result = evaluate_fixed_k(
    model,
    params,
    task,
    point["k"],
    num_synapses=experiment.synapses(point["rule"]),
    num_state_floats=experiment.state_floats(point["rule"]),
    **common,
  )
  oracle_key = (
    point["size"],
    point["k"],
    point["slots"],
    point["hidden_fraction"],
    point["delay"],
    episodes,
  )
  if oracle_key not in _ORACLE_CACHE:  # same episodes for every rule: compute once per process
    _ORACLE_CACHE[oracle_key] = evaluate_fixed_k(None, None, task, point["k"], **common)
  oracle = _ORACLE_CACHE[oracle_key]
  record = {
    "kind": "eval",
    "key": point_key(point),
    **point,
    "load": point["k"] / point["size"],
    "num_neurons": experiment.topology.num_neurons if point["rule"] != "lstm" else 0,
    "num_synapses": experiment.synapses(point["rule"]),
    "num_state_floats": experiment.state_floats(point["rule"]),
    "episodes": episodes,
    "episode_steps": task.length,
    **result,
    "oracle_hidden_bit_accuracy": oracle["hidden_bit_accuracy"],
  }
  load = point["k"] / point["size"]
  default_task = remember.get_config().task
  on_default_task = (point["hidden_fraction"], point["delay"]) == (
    default_task.hidden_fraction,
    default_task.delay_steps,
  )
  if (
    on_default_task
    and point["rule"] != "lstm"
    and any(abs(load - a) < 0.5 / point["size"] for a in config.probe_loads)
  ):
    if point["size"] <= config.probe_max_size:
      record["probe"] = probes.memory_location(
        model, params, task, EVAL_SEED, min(episodes, config.probe_episodes), batch, point["k"]
      )
  record["wall_s"] = time.time() - start
  record["machine"] = machine_description(config)
  record["command"] = command_line()
  return record


def read_keys(path: str) -> set:
  keys = set()
  if os.path.exists(path):
    with open(path) as f:
      for line in f:
        line = line.strip()
        if line:
          try:
            keys.add(json.loads(line)["key"])
          except (json.JSONDecodeError, KeyError):
            logging.warning("skipping a malformed record line in %s", path)
  return keys


def run(config) -> int:
  """Evaluates every point not yet recorded; returns how many new points were written."""
  os.makedirs(os.path.dirname(config.records) or ".", exist_ok=True)
  done = read_keys(config.records)

  def write_record(record):
    with open(config.records, "a") as f:
      f.write(json.dumps(record, sort_keys=True) + "\n")
      f.flush()

  trainer = Trainer(config, write_record)
  todo = [p for p in points(config) if point_key(p) not in done]
  if config.max_points > 0:
    todo = todo[: config.max_points]
  print(f"sweep {config.name}: {len(todo)} points to run, {len(done)} records exist", flush=True)
  start = time.time()
  for index, point in enumerate(todo):
    params = trainer.get(point["train"], done) if "train" in point else None
    record = evaluate_point(config, point, params)
    write_record(record)
    print(
      f"[{index + 1}/{len(todo)} {time.time() - start:.0f} s] {point['rule']} {point['variant']}"
      f" {point['topology']} D={point['size']} K={point['k']} c={point['hidden_fraction']}"
      f" Q={point['delay']}: hidden acc {record['hidden_bit_accuracy']:.4f}"
      f" (oracle {record['oracle_hidden_bit_accuracy']:.4f})",
      flush=True,
    )
  return len(todo)


def main(argv):
  del argv
  run(FLAGS.config)


if __name__ == "__main__":
  flags.mark_flags_as_required(["config"])
  app.run(main)
