"""The one meta-training loop: restore, train, checkpoint, report. Every training script calls it.

`meta_train(config, workdir)` resumes from the workdir's latest good checkpoint when there is one,
so rerunning the same command continues a stopped run (the sweep does this per rule).
`train_and_evaluate(config, workdir)` is `meta_train` followed by the evaluation report;
`config.mode='eval'` evaluates the latest checkpoint without training. The trainer knows tasks
and models only through `experiment.build(config)`: it never asks which rule it trains.
"""

import contextlib
import dataclasses
import json
import os
import time

import jax
import numpy as np
from absl import logging

from learned_rules import experiment
from learned_rules.common import checkpointing, signals, writers
from learned_rules.common.errors import UserError
from learned_rules.train import es, meta, parallel, params_io, sizes
from learned_rules.train.report import write_report

# `validate` is the remember system's interface (learned_rules/systems.py names this module and
# calls `validate(config)` on it), not an alias: the check lives in validation.py, and
# train_and_evaluate runs it once per run.
from learned_rules.train.validation import prepare_workdir, validate

INTERRUPTED_EXIT_CODE = 130  # what experiments.main exits with after a clean Ctrl-C / SIGTERM


class NonFiniteError(UserError):
  """A NaN or Inf in the loss, gradient or parameters with train.on_nonfinite='stop'."""


@dataclasses.dataclass(frozen=True)
class DebugHooks:
  """Test-only knobs, passed by test code (never read from a config)."""

  poison_step: int = -1  # this meta-step's loss and gradient become NaN (-1: never)
  step_delay_s: float = 0.0  # seconds slept after every step, so a signal can land mid-run


@dataclasses.dataclass
class TrainResult:
  params: object  # the final meta-parameters (host numpy)
  steps_done: int
  stopped: str  # 'num_steps', 'max_seconds' or the signal's name
  wall_s: float  # training wall time, summed over every resumed part
  history: list  # the logged training metrics, one dict per logging interval

  @property
  def interrupted(self) -> bool:
    return self.stopped not in ("num_steps", "max_seconds")


def _checkpointer(config, workdir: str, create: bool = True) -> checkpointing.Checkpointer:
  directory = os.path.join(workdir, "checkpoints")
  if not create and not os.path.isdir(directory):
    raise UserError(f"mode=eval: no checkpoint in {directory}; train there first.")
  return checkpointing.Checkpointer(directory, config.train.checkpoints_to_keep, create)


def evaluate_params_file(config, workdir: str, exp: experiment.Experiment) -> dict:
  """mode='eval' with eval.params_file: saved meta-parameters on the config's task settings."""
  network = exp.model(config.rule.name)
  template = network.init_params(jax.random.PRNGKey(config.seed))
  params = params_io.load_params(config.eval.params_file, template)
  os.makedirs(workdir, exist_ok=True)
  logging.info("evaluating the meta-parameters of %s", config.eval.params_file)
  return write_report(config, workdir, exp, params, extra={"params_file": config.eval.params_file})


def evaluate_checkpoint(config, workdir: str, exp: experiment.Experiment | None = None) -> dict:
  """mode='eval': the latest checkpoint's meta-parameters on the config's task settings."""
  exp = exp or experiment.build(config)
  if config.eval.get("params_file"):
    return evaluate_params_file(config, workdir, exp)
  network = exp.model(config.rule.name)
  template = params_io.state_template(config, network)
  with contextlib.closing(_checkpointer(config, workdir, create=False)) as checkpointer:
    state, step = checkpointer.restore_latest(template, check_only="params")
  if state is None:
    raise UserError(f"mode=eval: no checkpoint in {checkpointer.directory}; train there first.")
  logging.info("evaluating the checkpoint of step %d from %s", step, checkpointer.directory)
  return write_report(config, workdir, exp, state.params, None, step, {"checkpoint_step": step})


# --- the loop ------------------------------------------------------------------------------------
def _first_nonfinite(values: dict):
  for name in meta.NONFINITE_QUANTITIES:
    if values[f"finite_{name}"] < 1.0:
      return name
  return None


def read_history(workdir: str) -> list:
  """The logged training metrics of metrics.jsonl, prefixes dropped, one dict per interval."""
  path = os.path.join(workdir, "metrics.jsonl")
  history = []
  if os.path.exists(path):
    with open(path) as f:
      for line in f:
        record = json.loads(line)
        if any(k.startswith("train/") for k in record):
          history.append(
            {"step": record["step"]}
            | {k[len("train/") :]: v for k, v in record.items() if k.startswith("train/")}
          )
  return history


class _Run:
  """The resources of one training run, opened and closed together (`with _Run(...) as run`)."""

  def __init__(self, config, workdir: str, exp, debug: DebugHooks):
    self.config, self.workdir, self.exp, self.debug = config, workdir, exp, debug
    self.is_chief = jax.process_index() == 0
    self._stack = contextlib.ExitStack()

  def __enter__(self):
    train = self.config.train
    stack = self._stack.__enter__()
    self.model = self.exp.model(self.config.rule.name)
    self.devices = parallel.select_devices(train.num_devices)
    if es.estimator(train) == "es":  # the same step interface: replicated state in and out
      self.train_step = es.make_parallel_train_step(
        self.model, self.exp.task, self.config, self.devices, self.debug.poison_step
      )
      self.template = es.init_state(self.model, self.config)
    else:
      optimizer = meta.make_optimizer(train)
      shards = parallel.num_shards(self.devices)
      make_one = lambda model, task, cfg: meta.make_grad_fn(model, task, cfg, parallel.AXIS, shards)
      # One task, or several variants (train.extra_sizes, train.exact_loads) in one step.
      grad_fn = sizes.make_grad_fn(self.config, self.model, self.exp.task, make_one)
      self.train_step = parallel.make_parallel_train_step(
        grad_fn, optimizer, self.devices, self.debug.poison_step, getattr(self.model, "mesh", None)
      )
      self.template = meta.init_train_state(
        self.model, optimizer, self.config.seed, meta.initial_curriculum(self.exp.task, train)
      )
      if train.get("init_params_file"):  # a warm start (a checkpoint, when there is one, wins)
        params = params_io.load_params(
          train.init_params_file, self.template.params, "train.init_params_file"
        )
        self.template = self.template.replace(params=params, opt_state=optimizer.init(params))
        logging.info("meta-parameters start from %s", train.init_params_file)
    self.checkpointer = stack.enter_context(
      contextlib.closing(_checkpointer(self.config, self.workdir))
    )
    self.writer = None  # opened by `restore`, once metrics.jsonl is trimmed to the checkpoint
    self.stop = stack.enter_context(signals.StopRequest().installed())
    return self

  def __exit__(self, *exc):
    return self._stack.__exit__(*exc)

  def restore(self):
    """(host TrainState, start step, wall seconds already spent) from the latest good checkpoint."""
    state, step, wall_s = self._restore()
    if self.is_chief:
      self.writer = self._stack.enter_context(
        contextlib.closing(writers.MetricWriter(self.workdir, self.config))
      )
    return state, step, wall_s

  def _restore(self):
    had_checkpoints = bool(self.checkpointer.steps())
    restored, step = self.checkpointer.restore_latest(self.template)
    metrics_path = os.path.join(self.workdir, "metrics.jsonl")
    if restored is None:
      if had_checkpoints:
        logging.warning(
          "every checkpoint in %s was damaged (set aside in %s.damaged); starting again from "
          "step 0.",
          self.checkpointer.directory,
          self.checkpointer.directory,
        )
      if self.is_chief:
        writers.drop_records_after(metrics_path, 0)
      return self.template, 0, 0.0
    logging.info("resuming from the checkpoint of step %d in %s", step, self.workdir)
    if self.is_chief:
      writers.drop_records_after(metrics_path, step)
    return restored, step, float(self.checkpointer.restored_extra.get("wall_s", 0.0))

  def nonfinite_message(self, bad: str, step: int, values: dict) -> str:
    latest = self.checkpointer.latest_step()
    where = (
      f"The last good checkpoint is step {latest} in {self.checkpointer.directory}."
      if latest is not None
      else "No checkpoint has been saved yet."
    )
    norm = "grad_norm" if "grad_norm" in values else "update_norm"  # BPTT / ES
    return (
      f"non-finite {bad} at step {step} (loss={values['loss']}, "
      f"{norm}={values[norm]}); the update was not applied. {where} "
      "Set train.on_nonfinite=skip to skip such updates instead."
    )


def meta_train(
  config, workdir: str, *, exp: experiment.Experiment | None = None, debug: DebugHooks | None = None
) -> TrainResult:
  """Meta-trains `config.rule.name` in `workdir`, resuming from its checkpoints.

  `exp`: the run's Experiment when the caller has validated and built it (else built here).

  Stops at train.num_steps, after train.max_seconds of training (0: no cap; summed over resumed
  parts), or on SIGINT / SIGTERM (a checkpoint is saved first). Writes meta_params.msgpack when
  it reaches the end (num_steps or the time cap).
  """
  debug = debug or DebugHooks()
  train = config.train
  exp = exp or experiment.build(config)
  prepare_workdir(workdir)
  with _Run(config, workdir, exp, debug) as run:
    host_state, start_step, wall_before = run.restore()
    state = parallel.replicate(host_state, run.devices)
    logging.info(
      "%s: N=%d neurons, %d synapses, episode of %d steps, %d meta-parameters, "
      "%d %s device(s) x %d process(es), batch %d per device",
      config.task.name,
      exp.topology.num_neurons,
      exp.topology.num_synapses,
      exp.task.length,
      sum(np.size(x) for x in jax.tree.leaves(host_state.params)),
      len(run.devices),
      run.devices[0].platform,
      jax.process_count(),
      train.batch_size // parallel.num_shards(run.devices),
    )
    progress = writers.ProgressLine(train.num_steps, start_step)
    skipped, step, stopped = 0, start_step, "num_steps"
    start = time.time()
    elapsed = lambda: wall_before + time.time() - start
    for step in range(start_step + 1, train.num_steps + 1):
      state, step_metrics = run.train_step(state)
      values = {k: float(v[0]) for k, v in step_metrics.items()}
      bad = _first_nonfinite(values)
      if bad is not None:
        if train.on_nonfinite == "stop":
          raise NonFiniteError(run.nonfinite_message(bad, step, values))
        skipped += 1
        logging.warning("non-finite %s at step %d: update skipped (%d so far)", bad, step, skipped)
      if debug.step_delay_s > 0:
        time.sleep(debug.step_delay_s)
      over_time = train.max_seconds > 0 and elapsed() > train.max_seconds
      last = step == train.num_steps or over_time
      if step % train.log_every == 0 or last:
        logged = {k: v for k, v in values.items() if not k.startswith("finite_")}
        logged["skipped_updates"] = float(skipped)
        if run.writer is not None:
          run.writer.scalars(step, logged | {"elapsed_s": elapsed()}, prefix="train/")
        progress(step, logged)
      if step % train.checkpoint_every == 0 or last or run.stop.signal_name:
        run.checkpointer.save(step, parallel.unreplicate(state), extra={"wall_s": elapsed()})
      if run.stop.signal_name:
        stopped = run.stop.signal_name
        logging.warning(
          "stopped by %s at step %d; checkpoint saved. Rerun the same command to resume.",
          stopped,
          step,
        )
        break
      if over_time:
        stopped = "max_seconds"
        logging.info("train.max_seconds=%s reached at step %d", train.max_seconds, step)
        break
    final = parallel.unreplicate(state)
    wall_s = elapsed()
    if not stopped.startswith("SIG") and run.is_chief:
      params_io.save_params(os.path.join(workdir, params_io.PARAMS_FILE), final.params)
      run.writer.scalars(step, {"train_seconds": wall_s}, prefix="time/")
  return TrainResult(final.params, step, stopped, wall_s, read_history(workdir))


def train_and_evaluate(config, workdir: str, *, debug: DebugHooks | None = None) -> dict:
  """Meta-trains the configured rule (resuming if possible), then writes eval.json.

  Returns the evaluation report, or {'interrupted': signal name, 'step': n} when SIGINT or
  SIGTERM stopped it after saving a checkpoint.
  """
  exp = validate(config)  # the one validation and build of the run
  parallel.initialize_distributed(config.distributed)
  if config.mode == "eval":
    return evaluate_checkpoint(config, workdir, exp)
  result = meta_train(config, workdir, exp=exp, debug=debug)
  if result.interrupted:
    return {"interrupted": result.stopped, "step": result.steps_done}
  with contextlib.ExitStack() as stack:
    writer = None
    if jax.process_index() == 0:
      writer = stack.enter_context(contextlib.closing(writers.MetricWriter(workdir)))
    report = write_report(config, workdir, exp, result.params, writer, result.steps_done)
  report["train_seconds"] = result.wall_s  # returned, not written: eval.json is reproducible
  logging.info("meta-training took %.1f s; wrote %s", result.wall_s, workdir)
  return report
