"""Runs the points of a sweep not yet in its records file, one JSON line per point.

Resumable at two levels. A point whose key is in the records file is skipped (records written
with an older spelling of a rule count: `grid.canonical_key`). A rule with meta-parameters is
meta-trained by the one training loop, `train.trainer.meta_train`, in its own workdir
`<config.work_dir>/<hash of its train spec>`: checkpoints, resume, the non-finite guard, metrics
and the progress line are the trainer's, so a killed sweep continues that rule from its last
checkpoint. The final meta-parameters go to `<config.params_dir>/<same hash>.msgpack`, with one
'train' record; a rule whose file exists is loaded, not retrained.

Non-finite values stop a rule's meta-training (train.on_nonfinite='stop'): its 'train' record
says where (`stopped`, no `params_file`), its points are skipped, and the sweep goes on with the
next rule. Later runs skip that rule's points as well; delete its 'train' record to try again.
"""

import json
import math
import os
import time

import flax.serialization
import jax
import numpy as np
from absl import logging

from learned_rules import evaluation, experiment, probes
from learned_rules.common import records as records_io
from learned_rules.dynamics import Network
from learned_rules.studies import base
from learned_rules.studies import sweep_grid as grid
from learned_rules.studies import sweep_report as report
from learned_rules.train import params_io, trainer

EVAL_SEED = 10_000  # evaluation episodes never overlap the training streams (seeds < 10_000)


class Interrupted(base.Interrupted):
  """SIGINT or SIGTERM stopped a rule's meta-training after a checkpoint; rerun to resume."""

  def __init__(self, signal_name: str, step: int, workdir: str):
    super().__init__(
      f"stopped by {signal_name} at meta-step {step} of the rule trained in {workdir} "
      "(checkpoint saved); rerun the same command to resume it."
    )
    self.signal_name = signal_name


def machine_description(config) -> str:
  return records_io.machine_description(config.machine)


command_line = records_io.command_line


def read_records(path: str) -> tuple[set, set]:
  """(canonical keys of every record, canonical keys of 'train' records without parameters)."""
  done, failed = set(), set()
  if os.path.exists(path):
    with open(path) as f:
      for line in f:
        line = line.strip()
        if not line:
          continue
        try:
          record = json.loads(line)
          key = grid.canonical_key(record["key"])
        except (ValueError, KeyError, TypeError):  # JSON, a key or a variant cut short
          logging.warning("skipping a malformed record line in %s", path)
          continue
        done.add(key)
        if record.get("kind") == "train" and not record.get("params_file"):
          failed.add(key)
  return done, failed


def drop_cut_off_line(path: str) -> None:
  """A kill mid-write can leave a last line without its newline: drop it (its point is redone)."""
  if not os.path.exists(path):
    return
  with open(path, "rb+") as f:
    data = f.read()
    if data and not data.endswith(b"\n"):
      f.truncate(data.rfind(b"\n") + 1)


def stopped_text(result: trainer.TrainResult, spec: dict) -> str:
  """The record's `stopped`, in the words the records have always used."""
  if result.stopped == "max_seconds":
    return f"time cap {spec['max_seconds']} s at step {result.steps_done}"
  return result.stopped


def history_of(trainer_history: list) -> list:
  """The trainer's logged metrics, with `elapsed_s` under the records' name `seconds`."""
  out = []
  for entry in trainer_history:
    entry = dict(entry)
    entry["seconds"] = entry.pop("elapsed_s", None)
    out.append(entry)
  return out


class RuleTrainer:
  """Meta-trains (or loads) the rule of a train spec; parameters saved under params_dir."""

  def __init__(self, config, write_record, done: set, failed: set, train_options: dict):
    self.config = config
    self.write_record = write_record
    self.done, self.failed = done, failed
    self.train_options = train_options  # keyword options for meta_train (tests: debug hooks)
    self._cache = {}

  def params_path(self, spec: dict) -> str:
    return os.path.join(self.config.params_dir, grid.short_hash(grid.point_key(spec)) + ".msgpack")

  def workdir(self, spec: dict) -> str:
    return os.path.join(self.config.work_dir, grid.short_hash(grid.point_key(spec)))

  def get(self, spec: dict):
    """The rule's meta-parameters, or None when its meta-training hit a non-finite value."""
    key = grid.point_key(spec)
    if key in self._cache:
      return self._cache[key]
    record_key = grid.point_key({"train": spec})
    path = self.params_path(spec)
    exp_config = grid.train_config(self.config, spec)
    if os.path.exists(path):
      model = experiment.build(exp_config).model(spec["rule"])
      template = model.init_params(jax.random.PRNGKey(spec["seed"]))
      with open(path, "rb") as f:
        params = flax.serialization.from_bytes(template, f.read())
    elif record_key in self.failed:
      logging.warning("skipping %s: its meta-training stopped on a non-finite value before", key)
      params = None
    else:
      params = self._train(exp_config, spec, record_key, path)
    self._cache = {key: params}  # keep one rule in memory
    return params

  def _train(self, exp_config, spec: dict, record_key: str, path: str):
    workdir = self.workdir(spec)
    trainer.validate(exp_config)
    exp = experiment.build(exp_config)
    logging.info("meta-training %s in %s", grid.point_key(spec), workdir)
    record = {
      "kind": "train",
      "key": record_key,
      "train": spec,
      "num_state_floats": exp.state_floats(spec["rule"]),
      "machine": machine_description(self.config),
      "command": command_line(),
    }
    start = time.time()
    try:
      result = trainer.meta_train(exp_config, workdir, **self.train_options)
    except trainer.NonFiniteError as error:
      logging.error("%s; skipping the points of %s", error, grid.point_key(spec))
      history = history_of(trainer.read_history(workdir))
      template = exp.model(spec["rule"]).init_params(jax.random.PRNGKey(spec["seed"]))
      record |= {
        "num_params": sum(int(np.size(x)) for x in jax.tree.leaves(template)),
        "steps_done": history[-1]["step"] if history else 0,
        "stopped": str(error),
        "wall_s": time.time() - start,
        "history": history,
        "params_file": None,
      }
      self.write_record(record)
      self.failed.add(record_key)
      return None
    if result.interrupted:
      raise Interrupted(result.stopped, result.steps_done, workdir)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    params_io.save_params(path, result.params)
    record |= {
      "num_params": sum(int(np.size(x)) for x in jax.tree.leaves(result.params)),
      "steps_done": result.steps_done,
      "stopped": stopped_text(result, spec),
      "wall_s": result.wall_s,
      "history": history_of(result.history),
      "params_file": path,
    }
    if record_key not in self.done:
      self.write_record(record)
    return result.params


def num_episodes_for(config, k: int, hidden_bits: int) -> tuple[int, int]:
  """(episodes, batch): about `eval_hidden_bits` scored hidden bits, within [min, max]."""
  wanted = math.ceil(config.eval_hidden_bits / max(k * hidden_bits, 1))
  episodes = int(np.clip(wanted, config.eval_min_episodes, config.eval_max_episodes))
  batch = min(config.eval_batch_size, episodes)
  return -(-episodes // batch) * batch, batch


_ORACLE_CACHE = {}


def evaluate_point(config, point: dict, params) -> dict:
  """The eval record of one point: the rule (K = point['k'] of point['slots'] slots), the oracle
  on the same episodes, and the memory-location probe at the probe loads."""
  exp_config = grid.experiment_config(
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
  exp = experiment.build(exp_config)
  task = exp.task  # layout of point["slots"] slots, K = point["k"] active
  model = exp.model(point["rule"])
  has_neurons = isinstance(model, Network)
  if params is None:
    params = model.init_params(jax.random.PRNGKey(0))
  hidden_bits = max(1, int(round(point["hidden_fraction"] * point["size"])))
  episodes, batch = num_episodes_for(config, point["k"], hidden_bits)
  start = time.time()
  common = dict(seed=EVAL_SEED, num_episodes=episodes, batch_size=batch, num_patterns=point["k"])
  result = evaluation.evaluate(
    model,
    params,
    task,
    num_synapses=exp.synapses(point["rule"]),
    num_state_floats=exp.state_floats(point["rule"]),
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
    _ORACLE_CACHE[oracle_key] = evaluation.evaluate(None, None, task, **common)
  oracle = _ORACLE_CACHE[oracle_key]
  record = {
    "kind": "eval",
    "key": grid.point_key(point),
    **point,
    "load": point["k"] / point["size"],
    "num_neurons": exp.topology.num_neurons if has_neurons else 0,
    "num_synapses": exp.synapses(point["rule"]),
    "num_state_floats": exp.state_floats(point["rule"]),
    "episodes": episodes,
    "episode_steps": task.length,
    **result,
    "oracle_hidden_bit_accuracy": oracle["hidden_bit_accuracy"],
  }
  load = point["k"] / point["size"]
  default_task = config.bases.remember.task
  on_default_task = (point["hidden_fraction"], point["delay"]) == (
    default_task.hidden_fraction,
    default_task.delay_steps,
  )
  if (
    on_default_task
    and has_neurons
    and any(abs(load - a) < 0.5 / point["size"] for a in config.probe_loads)
    and point["size"] <= config.probe_max_size
  ):
    record["probe"] = probes.memory_location(
      model, params, task, EVAL_SEED, min(episodes, config.probe_episodes), batch, point["k"]
    )
  record["wall_s"] = time.time() - start
  record["machine"] = machine_description(config)
  record["command"] = command_line()
  return record


def describe(point: dict) -> str:
  return (
    f"{point['rule']} {point['variant']} {point['topology']} D={point['size']} K={point['k']}"
    f" c={point['hidden_fraction']} Q={point['delay']}"
  )


def run(config, **train_options) -> int:
  """Evaluates every point not yet recorded; returns how many eval records it wrote.

  `train_options` go to `trainer.meta_train` (tests pass `debug=trainer.DebugHooks(...)`).
  Raises `Interrupted` when SIGINT/SIGTERM stopped a rule's meta-training (checkpoint saved).
  """
  grid.validate(config)
  os.makedirs(os.path.dirname(config.records) or ".", exist_ok=True)
  drop_cut_off_line(config.records)
  done, failed = read_records(config.records)

  def write_record(record):
    with open(config.records, "a") as f:
      f.write(json.dumps(record, sort_keys=True) + "\n")
      f.flush()

  rule_trainer = RuleTrainer(config, write_record, done, failed, train_options)
  todo = [p for p in grid.points(config) if grid.point_key(p) not in done]
  if config.max_points > 0:
    todo = todo[: config.max_points]
  logging.info("sweep %s: %d points to run, %d records exist", config.name, len(todo), len(done))
  start, written = time.time(), 0
  for index, point in enumerate(todo):
    params = rule_trainer.get(point["train"]) if "train" in point else None
    if "train" in point and params is None:
      continue  # its meta-training stopped on a non-finite value (logged, recorded)
    record = evaluate_point(config, point, params)
    write_record(record)
    written += 1
    elapsed = time.time() - start
    eta = elapsed / (index + 1) * (len(todo) - index - 1)
    logging.info(
      "[%d/%d %.0f s, eta %.0f s] %s: hidden acc %.4f (oracle %.4f)",
      index + 1,
      len(todo),
      elapsed,
      eta,
      describe(point),
      record["hidden_bit_accuracy"],
      record["oracle_hidden_bit_accuracy"],
    )
  return written


def summary(written, config) -> list[str]:
  return [f"sweep {config.name}: {written} new points in {config.records}"]


STUDY = base.Study(
  name="sweep", run=run, section=report.section, validate=grid.validate, summary=summary
)
