"""Meta-training loop for the remember task: train, checkpoint, resume, evaluate vs baselines.

`train_and_evaluate(config, workdir)` resumes from the workdir's latest good checkpoint when
there is one, so rerunning the same command continues a stopped run; `config.mode='eval'`
evaluates the latest checkpoint without training.
"""

import contextlib
import json
import os
import signal
import threading
import time

import flax.serialization
import jax
import numpy as np
from absl import logging

from learned_rules import evaluation, setup_config, writers
from learned_rules.train import checkpointing, meta, parallel

EVAL_SEED_OFFSET = 10_000  # evaluation episodes never overlap the training stream's seeds
ON_NONFINITE = ("stop", "skip")
INTERRUPTED_EXIT_CODE = 130  # what experiments.main exits with after a clean Ctrl-C / SIGTERM


class NonFiniteError(RuntimeError):
  """A NaN or Inf in the loss, gradient or parameters with train.on_nonfinite='stop'."""


def validate(config) -> None:
  """Checks the fields this module adds (mode, checkpoints, devices, guard) before compiling."""
  setup_config.validate(config)
  train = config.train
  if config.get("mode", "train") not in ("train", "eval"):
    raise setup_config.ConfigError(f"mode={config.mode!r}: expected 'train' or 'eval'.")
  for key, low in (("checkpoint_every", 1), ("checkpoints_to_keep", 1), ("unroll_window", 0)):
    value = train.get(key, low)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
      raise setup_config.ConfigError(f"train.{key}={value!r}: must be an integer >= {low}.")
  num_devices = train.get("num_devices", -1)
  if not isinstance(num_devices, int) or (num_devices != -1 and num_devices < 1):
    raise setup_config.ConfigError(f"train.num_devices={num_devices!r}: -1 (all) or >= 1.")
  if train.get("on_nonfinite", "stop") not in ON_NONFINITE:
    raise setup_config.ConfigError(
      f"train.on_nonfinite={train.on_nonfinite!r}: expected one of {ON_NONFINITE}."
    )


def save_params(path: str, params) -> None:
  tmp = path + ".tmp"
  with open(tmp, "wb") as f:
    f.write(flax.serialization.to_bytes(params))
  os.replace(tmp, path)


def evaluate_all(config, experiment, learned_params) -> dict:
  """Learned rule, hand-written baselines and the oracle on the same held-out episodes."""
  task = setup_config.eval_task(config)
  ev = config.eval
  seed = config.seed + EVAL_SEED_OFFSET
  common = dict(seed=seed, num_episodes=ev.num_episodes, batch_size=ev.batch_size)
  results = {}
  for name, params in [("learned", learned_params)] + [(b, None) for b in ev.baselines]:
    model = experiment.network(config.rule.name if name == "learned" else name)
    if params is None:  # hand-written rules: their parameters are fixed, not trained
      params = model.init_params(jax.random.PRNGKey(0))
    model_name = config.rule.name if name == "learned" else name
    results[name] = evaluation.evaluate(
      model,
      params,
      task,
      num_synapses=experiment.synapses(model_name),
      num_state_floats=experiment.state_floats(model_name),
      **common,
    )
  results[evaluation.ORACLE] = evaluation.evaluate(None, None, task, **common)
  return {
    "task": {
      **config.task.to_dict(),
      "eval_k": task.config.k_max,
      "num_episodes": ev.num_episodes,
      "topology": config.topology.name,
      "num_neurons": experiment.topology.num_neurons,
      "num_synapses": experiment.topology.num_synapses,
      "episode_steps": task.length,
    },
    "rules": results,
  }


def format_table(report: dict) -> str:
  columns = [
    "hidden_bit_accuracy",
    "bit_accuracy",
    "perfect_recall_fraction",
    "information_bits",
    "bits_per_synapse",
  ]
  task = report["task"]
  lines = [
    f"eval: {task['mode']} K={task['eval_k']} D={task['pattern_bits']} "
    f"N={task['num_neurons']} {task['topology']} synapses={task['num_synapses']} "
    f"episodes={task['num_episodes']}",
    f"{'rule':<10}" + "".join(f"{c:>24}" for c in columns),
  ]
  for name, values in report["rules"].items():
    cells = [f"{values[c]:>24.4f}" if values[c] is not None else f"{'-':>24}" for c in columns]
    lines.append(f"{name:<10}" + "".join(cells))
  return "\n".join(lines)


class StopRequest:
  """Turns SIGINT/SIGTERM into a flag the loop checks after each step; a second one aborts."""

  def __init__(self):
    self.signal_name = None

  def __call__(self, signum, frame):
    if self.signal_name is not None:  # asked twice: stop now, without a checkpoint
      signal.signal(signum, signal.SIG_DFL)
      raise KeyboardInterrupt
    self.signal_name = signal.Signals(signum).name
    logging.warning("%s received: saving a checkpoint after this step.", self.signal_name)

  @contextlib.contextmanager
  def installed(self):
    if threading.current_thread() is not threading.main_thread():
      yield self
      return
    previous = {s: signal.signal(s, self) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
      yield self
    finally:
      for s, handler in previous.items():
        signal.signal(s, handler)


def _drop_metrics_after(workdir: str, step: int) -> None:
  """On resume, forget metrics.jsonl records past the checkpoint (they will be redone)."""
  path = os.path.join(workdir, "metrics.jsonl")
  if not os.path.exists(path):
    return
  with open(path) as f:
    lines = f.readlines()
  kept = []
  for line in lines:
    try:
      if json.loads(line)["step"] <= step:
        kept.append(line)
    except (ValueError, KeyError):
      continue  # a line cut short by a kill
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    f.writelines(kept)
  os.replace(tmp, path)


def _first_nonfinite(values: dict):
  for name in meta.NONFINITE_QUANTITIES:
    if values[f"finite_{name}"] < 1.0:
      return name
  return None


def _checkpointer(config, workdir: str, create: bool = True) -> checkpointing.Checkpointer:
  directory = os.path.join(workdir, "checkpoints")
  if not create and not os.path.isdir(directory):
    raise FileNotFoundError(f"mode=eval: no checkpoint in {directory}; train there first.")
  return checkpointing.Checkpointer(directory, config.train.get("checkpoints_to_keep", 3), create)


def _write_report(config, workdir, experiment, params, writer, step, name="eval.json") -> dict:
  report = evaluate_all(config, experiment, params)
  if jax.process_index() == 0:
    if writer is not None:
      for rule, values in report["rules"].items():
        scalars = {k: v for k, v in values.items() if v is not None}
        writer.scalars(step, scalars, prefix=f"eval/{rule}/")
    writers.write_json(os.path.join(workdir, name), report)
  print(format_table(report), flush=True)
  return report


def evaluate_checkpoint(config, workdir: str) -> dict:
  """mode='eval': the latest checkpoint's meta-parameters on the config's task settings."""
  experiment = setup_config.build(config)
  network = experiment.network(config.rule.name)
  optimizer = meta.make_optimizer(config.train)
  template = meta.init_train_state(network, optimizer, config.seed)
  checkpointer = _checkpointer(config, workdir, create=False)
  state, step = checkpointer.restore_latest(template, check_only="params")
  checkpointer.close()
  if state is None:
    raise FileNotFoundError(
      f"mode=eval: no checkpoint in {checkpointer.directory}; train there first."
    )
  logging.info("evaluating the checkpoint of step %d from %s", step, checkpointer.directory)
  name = config.eval.get("output", "") or "eval.json"
  report = _write_report(config, workdir, experiment, state.params, None, step, name)
  report["checkpoint_step"] = step
  return report


def train_and_evaluate(config, workdir: str) -> dict:
  """Meta-trains the configured rule (resuming if possible), then writes eval.json.

  Returns the evaluation report, or {'interrupted': signal name, 'step': n} when SIGINT or
  SIGTERM stopped it after saving a checkpoint.
  """
  validate(config)
  parallel.initialize_distributed(config.get("distributed"))
  if config.get("mode", "train") == "eval":
    return evaluate_checkpoint(config, workdir)
  train = config.train
  experiment = setup_config.build(config)
  network = experiment.network(config.rule.name)
  optimizer = meta.make_optimizer(train)
  devices = parallel.select_devices(train.get("num_devices", -1))
  shards = parallel.num_shards(devices)
  if train.batch_size % shards:
    raise setup_config.ConfigError(
      f"train.batch_size={train.batch_size}: must be divisible by the {shards} devices "
      "it is split over (or set train.num_devices)."
    )
  grad_fn = meta.make_grad_fn(network, experiment.task, config, parallel.AXIS, shards)
  train_step = parallel.make_parallel_train_step(
    grad_fn, optimizer, devices, train.get("debug_nan_at_step", -1)
  )

  host_state = meta.init_train_state(network, optimizer, config.seed)
  checkpointer = _checkpointer(config, workdir)
  restored, start_step = checkpointer.restore_latest(host_state)
  is_chief = jax.process_index() == 0
  if restored is None:
    start_step = 0
  else:
    host_state = restored
    logging.info("resuming from the checkpoint of step %d in %s", start_step, workdir)
    if is_chief:
      _drop_metrics_after(workdir, start_step)
  state = parallel.replicate(host_state, devices)

  writer = writers.MetricWriter(workdir, config) if is_chief else None
  num_steps = train.num_steps
  checkpoint_every = train.get("checkpoint_every", 100)
  on_nonfinite = train.get("on_nonfinite", "stop")
  delay = float(train.get("debug_step_delay_s", 0.0))
  progress = writers.ProgressLine(num_steps, start_step)
  logging.info(
    "remember: N=%d neurons, %d synapses, episode of %d steps, %d meta-parameters, "
    "%d %s device(s) x %d process(es), batch %d per device",
    experiment.topology.num_neurons,
    experiment.topology.num_synapses,
    experiment.task.length,
    sum(np.size(x) for x in jax.tree.leaves(host_state.params)),
    len(devices),
    devices[0].platform,
    jax.process_count(),
    train.batch_size // shards,
  )
  last_saved = start_step
  skipped = 0
  start = time.time()
  stop = StopRequest()
  try:
    with stop.installed():
      for step in range(start_step + 1, num_steps + 1):
        state, step_metrics = train_step(state)
        values = {k: float(v[0]) for k, v in step_metrics.items()}
        bad = _first_nonfinite(values)
        if bad is not None:
          if on_nonfinite == "stop":
            raise NonFiniteError(
              f"non-finite {bad} at step {step} (loss={values['loss']}, "
              f"grad_norm={values['grad_norm']}); the update was not applied. The last good "
              f"checkpoint is step {checkpointer.latest_step()} in {checkpointer.directory}. "
              "Set train.on_nonfinite=skip to skip such updates instead."
            )
          skipped += 1
          logging.warning(
            "non-finite %s at step %d: update skipped (%d so far)", bad, step, skipped
          )
        if delay > 0:
          time.sleep(delay)
        if step % train.log_every == 0 or step == num_steps:
          logged = {k: v for k, v in values.items() if not k.startswith("finite_")}
          logged["skipped_updates"] = float(skipped)
          if writer is not None:
            writer.scalars(step, logged, prefix="train/")
          progress(step, logged)
        if step % checkpoint_every == 0 or step == num_steps or stop.signal_name:
          checkpointer.save(step, parallel.unreplicate(state))
          last_saved = step
        if stop.signal_name:
          logging.warning(
            "stopped by %s at step %d; checkpoint saved. Rerun the same command to resume.",
            stop.signal_name,
            step,
          )
          if writer is not None:
            writer.close()
          checkpointer.close()
          return {"interrupted": stop.signal_name, "step": step}
  except BaseException:
    if writer is not None:
      writer.close()
    checkpointer.close()
    raise
  train_seconds = time.time() - start
  final_state = parallel.unreplicate(state)
  checkpointer.close()
  if last_saved > num_steps:
    logging.warning("the checkpoint is at step %d, past train.num_steps=%d", last_saved, num_steps)
  if is_chief:
    save_params(os.path.join(workdir, "meta_params.msgpack"), final_state.params)
    writer.scalars(num_steps, {"train_seconds": train_seconds}, prefix="time/")

  name = config.eval.get("output", "") or "eval.json"
  report = _write_report(config, workdir, experiment, final_state.params, writer, num_steps, name)
  if writer is not None:
    writer.close()
  report["train_seconds"] = train_seconds  # returned, not written: eval.json is reproducible
  logging.info("meta-training took %.1f s; wrote %s", train_seconds, workdir)
  return report
