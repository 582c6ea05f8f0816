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
import numbers
import os
import time

import flax.serialization
import jax
import numpy as np
from absl import logging

from learned_rules import evaluation, experiment, probes
from learned_rules.common import checkpointing, signals, writers
from learned_rules.common.errors import ConfigError, UserError
from learned_rules.dynamics import Network
from learned_rules.train import es, meta, parallel, sizes

EVAL_SEED_OFFSET = 10_000  # evaluation episodes never overlap the training stream's seeds
ON_NONFINITE = ("stop", "skip")
MODES = ("train", "eval")
SCHEDULES = ("cosine", "constant")
INTERRUPTED_EXIT_CODE = 130  # what experiments.main exits with after a clean Ctrl-C / SIGTERM
PARAMS_FILE = "meta_params.msgpack"


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


# --- validation ----------------------------------------------------------------------------------
def _int_at_least(key, value, low):
  if not isinstance(value, int) or isinstance(value, bool) or value < low:
    raise ConfigError(f"{key}={value!r}: must be an integer >= {low}.")


def validate_train(train) -> None:
  """Checks the `train` block (values and this machine's devices); ConfigError names the key."""
  keys = ("batch_size", "log_every", "checkpoint_every", "checkpoints_to_keep", "remat_every")
  for key in keys:
    _int_at_least(f"train.{key}", train[key], 1)
  # num_steps = 0: no meta-training; in a fresh workdir the initial meta-parameters are saved and
  # evaluated (the untrained control of any config, or a hand-set start such as
  # rule.init='hebbian_features'); a workdir with checkpoints evaluates its latest one.
  for key in ("num_steps", "warmup_steps", "unroll_window"):
    _int_at_least(f"train.{key}", train[key], 0)
  for key in ("learning_rate", "grad_clip_norm"):
    if not train[key] > 0:
      raise ConfigError(f"train.{key}={train[key]!r}: must be > 0.")
  meta.curriculum_enabled(train)  # ConfigError for a bad train.curriculum_threshold
  es.validate(train)  # train.estimator, and the train.es block when it is 'es'
  if not train.max_seconds >= 0:
    raise ConfigError(f"train.max_seconds={train.max_seconds!r}: must be >= 0 (0: no cap).")
  init_file = train.get("init_params_file", "")
  if init_file and not os.path.isfile(init_file):
    raise ConfigError(
      f"train.init_params_file={init_file!r}: no such file (a meta_params.msgpack)."
    )
  if init_file and es.estimator(train) == "es":
    raise ConfigError("train.init_params_file: a warm start is built for estimator='bptt' only.")
  if train.schedule not in SCHEDULES:
    raise ConfigError(f"train.schedule={train.schedule!r}: expected one of {SCHEDULES}.")
  if train.on_nonfinite not in ON_NONFINITE:
    raise ConfigError(f"train.on_nonfinite={train.on_nonfinite!r}: expected one of {ON_NONFINITE}.")
  num_devices = train.num_devices
  if not isinstance(num_devices, int) or (num_devices != -1 and num_devices < 1):
    raise ConfigError(f"train.num_devices={num_devices!r}: -1 (all) or >= 1.")
  try:
    devices = parallel.select_devices(num_devices)
  except ValueError as error:
    raise ConfigError(str(error)) from None
  shards = parallel.num_shards(devices)
  if train.batch_size % shards:
    raise ConfigError(
      f"train.batch_size={train.batch_size}: must be divisible by the {shards} devices "
      "it is split over (or set train.num_devices)."
    )


def validate(config) -> None:
  """Every block, before anything compiles or any file is written."""
  if config.mode not in MODES:
    raise ConfigError(f"mode={config.mode!r}: expected one of {MODES}.")
  parallel.initialize_distributed(config.get("distributed"))  # before anything asks for devices
  experiment.validate(config)
  validate_train(config.train)
  sizes.validate(config)
  check_memory(config, experiment.build(config))


def _bytes(n: float) -> str:
  return f"{n / 2**30:.1f} GiB" if n >= 2**28 else f"{n / 2**20:.0f} MiB"


def device_memory_bytes(device) -> int | None:
  """What one device can hold: an accelerator's limit, or the host's physical memory."""
  try:
    stats = device.memory_stats() or {}
  except Exception:  # noqa: BLE001 - backends without memory stats
    stats = {}
  if stats.get("bytes_limit"):
    return int(stats["bytes_limit"])
  try:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
  except (ValueError, OSError, AttributeError):
    return None


def check_memory(config, exp) -> None:
  """ConfigError when a meta-step cannot fit in memory, before it compiles and fails there.

  A lower bound, not an estimate: the backward pass keeps at least one network state per online
  step of every episode of a device's shard (4-byte floats). XLA needs more than this.
  """
  if config.mode != "train":
    return
  devices = parallel.select_devices(config.train.num_devices)
  per_device = config.train.batch_size // parallel.num_shards(devices)
  floats = exp.state_floats(config.rule.name)
  need = 4.0 * per_device * (exp.task.length + 1) * floats
  have = device_memory_bytes(devices[0])
  if have is not None and need > have:
    raise ConfigError(
      f"train.batch_size={config.train.batch_size}: a meta-step keeps at least {_bytes(need)} "
      f"per device ({per_device} episodes x {exp.task.length + 1} steps x {floats} state "
      f"floats), more than the {_bytes(have)} of this {devices[0].platform} device; lower "
      "train.batch_size (or the network or episode size)."
    )


def prepare_workdir(workdir: str) -> None:
  """Creates the workdir, or says in one line why it cannot be used."""
  if os.path.exists(workdir) and not os.path.isdir(workdir):
    raise UserError(f"workdir {workdir!r} is a file, not a directory; pass another --workdir.")
  try:
    os.makedirs(workdir, exist_ok=True)
  except OSError as error:
    raise UserError(
      f"workdir {workdir!r} cannot be created: {error.strerror}; pass another --workdir."
    ) from None
  probe = os.path.join(workdir, f".write_test_{os.getpid()}")
  try:  # writing is the only reliable test: os.access says yes to root on a read-only mount
    os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    os.remove(probe)
  except OSError as error:
    raise UserError(
      f"workdir {workdir!r} is not writable: {error.strerror}; pass another --workdir."
    ) from None


# --- evaluation report ---------------------------------------------------------------------------
def save_params(path: str, params) -> None:
  tmp = path + ".tmp"
  with open(tmp, "wb") as f:
    f.write(flax.serialization.to_bytes(params))
  os.replace(tmp, path)


def evaluate_all(config, exp, learned_params) -> dict:
  """The trained model, hand-written baselines and the oracle on the same held-out episodes."""
  task, k = experiment.eval_layout(config, exp.task)
  ev = config.eval
  common = dict(
    seed=config.seed + EVAL_SEED_OFFSET,
    num_episodes=ev.num_episodes,
    batch_size=ev.batch_size,
    num_patterns=k,
  )
  results = {}
  for name, rule_name, params in [("learned", config.rule.name, learned_params)] + [
    (b, b, None) for b in ev.baselines
  ]:
    model = exp.model(rule_name)
    if params is None:  # hand-written rules: their parameters are fixed, not trained
      params = model.init_params(jax.random.PRNGKey(0))
    results[name] = evaluation.evaluate(
      model,
      params,
      task,
      num_synapses=exp.synapses(rule_name),
      num_state_floats=exp.state_floats(rule_name),
      **common,
    )
    if ev.get("probe") and isinstance(model, Network):
      results[name]["probe"] = probes.memory_location(
        model, params, task, common["seed"], ev.num_episodes, ev.batch_size, k
      )
  for reference in task.references():
    results[reference] = evaluation.evaluate(None, None, task, reference=reference, **common)
  return {
    "task": {
      **config.task.to_dict(),
      "eval_k": k,
      "eval_slots": task.load_range[1],
      "num_episodes": ev.num_episodes,
      "topology": config.topology.name,
      "num_neurons": exp.topology.num_neurons,
      "num_synapses": exp.topology.num_synapses,
      "episode_steps": task.length,
    },
    "rules": results,
  }


REPORT_COLUMNS = (
  "hidden_bit_accuracy",
  "bit_accuracy",
  "perfect_recall_fraction",
  "information_bits",
  "bits_per_synapse",
)


def format_table(report: dict, description: str | None = None) -> str:
  """The console table of a report; `description` is the task's one-line header."""
  task = report["task"]
  description = description or f"{task['name']} K={task['eval_k']}"
  lines = [
    f"eval: {description} N={task['num_neurons']} {task['topology']} "
    f"synapses={task['num_synapses']} episodes={task['num_episodes']}",
    f"{'rule':<10}" + "".join(f"{c:>24}" for c in REPORT_COLUMNS),
  ]
  for name, values in report["rules"].items():
    cells = [
      f"{values[c]:>24.4f}" if values[c] is not None else f"{'-':>24}" for c in REPORT_COLUMNS
    ]
    lines.append(f"{name:<10}" + "".join(cells))
  for name, values in report["rules"].items():
    if "probe" in values:
      lines.append(probe_line(name, values["probe"]))
  return "\n".join(lines)


def probe_line(name: str, probe: dict) -> str:
  """'probe learned: in synapses 0.98, in neurons 0.01; lost when reset: input->hidden0 0.40'."""
  fmt = lambda v: "-" if v is None else f"{v:.2f}"
  text = (
    f"probe {name}: information left with neurons reset {fmt(probe['synapse_fraction'])}, "
    f"with synapses reset {fmt(probe['neuron_fraction'])}"
  )
  if probe.get("layers"):
    text += "; lost when one synapse layer is reset: " + ", ".join(
      f"{layer['layer']} {fmt(layer['information_lost_fraction'])}" for layer in probe["layers"]
    )
  return text


def _numbers(values: dict, prefix: str = "") -> dict:
  """The numbers of a (nested: the probe's) report entry, keys joined by '/'; None dropped."""
  out = {}
  for key, value in values.items():
    if isinstance(value, dict):
      out |= _numbers(value, f"{prefix}{key}/")
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
      out[f"{prefix}{key}"] = value
  return out


def write_report(config, workdir, exp, params, writer=None, step=0, extra=None) -> dict:
  """Evaluates, logs to `writer`, writes eval.json (or eval.output) and prints the table.

  `extra`: entries added to the report (where its parameters came from).
  """
  report = evaluate_all(config, exp, params) | dict(extra or {})
  if jax.process_index() == 0:
    if writer is not None:
      for rule, values in report["rules"].items():
        writer.scalars(step, _numbers(values), prefix=f"eval/{rule}/")
    writers.write_json(os.path.join(workdir, config.eval.output or "eval.json"), report)
  task, k = experiment.eval_layout(config, exp.task)
  description = task.describe().replace(f"K={task.load_range[1]}", f"K={k}")
  if task.load_range[1] != k:
    description += f" on {task.load_range[1]} slots (blank slots {config.task.blank_slots})"
  print(format_table(report, description), flush=True)
  return report


def _checkpointer(config, workdir: str, create: bool = True) -> checkpointing.Checkpointer:
  directory = os.path.join(workdir, "checkpoints")
  if not create and not os.path.isdir(directory):
    raise UserError(f"mode=eval: no checkpoint in {directory}; train there first.")
  return checkpointing.Checkpointer(directory, config.train.checkpoints_to_keep, create)


def state_template(config, model):
  """The state a checkpoint of this config holds: BPTT's TrainState or ES's ESState."""
  if es.estimator(config.train) == "es":
    return es.init_state(model, config)
  return meta.init_train_state(model, meta.make_optimizer(config.train), config.seed)


def load_params(path: str, template, key: str = "eval.params_file"):
  """Meta-parameters saved by `save_params` (meta_params.msgpack), checked against `template`;
  `key` is the config entry named in errors."""
  if not os.path.isfile(path):
    raise UserError(f"{key}={path!r}: no such file (a meta_params.msgpack).")
  with open(path, "rb") as f:
    data = f.read()
  try:
    params = flax.serialization.from_bytes(template, data)
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


def evaluate_params_file(config, workdir: str) -> dict:
  """mode='eval' with eval.params_file: saved meta-parameters on the config's task settings."""
  exp = experiment.build(config)
  network = exp.model(config.rule.name)
  template = network.init_params(jax.random.PRNGKey(config.seed))
  params = load_params(config.eval.params_file, template)
  os.makedirs(workdir, exist_ok=True)
  logging.info("evaluating the meta-parameters of %s", config.eval.params_file)
  return write_report(config, workdir, exp, params, extra={"params_file": config.eval.params_file})


def evaluate_checkpoint(config, workdir: str) -> dict:
  """mode='eval': the latest checkpoint's meta-parameters on the config's task settings."""
  if config.eval.get("params_file"):
    return evaluate_params_file(config, workdir)
  exp = experiment.build(config)
  network = exp.model(config.rule.name)
  template = state_template(config, network)
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
        params = load_params(train.init_params_file, self.template.params, "train.init_params_file")
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


def meta_train(config, workdir: str, *, debug: DebugHooks | None = None) -> TrainResult:
  """Meta-trains `config.rule.name` in `workdir`, resuming from its checkpoints.

  Stops at train.num_steps, after train.max_seconds of training (0: no cap; summed over resumed
  parts), or on SIGINT / SIGTERM (a checkpoint is saved first). Writes meta_params.msgpack when
  it reaches the end (num_steps or the time cap).
  """
  debug = debug or DebugHooks()
  train = config.train
  exp = experiment.build(config)
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
      save_params(os.path.join(workdir, PARAMS_FILE), final.params)
      run.writer.scalars(step, {"train_seconds": wall_s}, prefix="time/")
  return TrainResult(final.params, step, stopped, wall_s, read_history(workdir))


def train_and_evaluate(config, workdir: str, *, debug: DebugHooks | None = None) -> dict:
  """Meta-trains the configured rule (resuming if possible), then writes eval.json.

  Returns the evaluation report, or {'interrupted': signal name, 'step': n} when SIGINT or
  SIGTERM stopped it after saving a checkpoint.
  """
  validate(config)
  parallel.initialize_distributed(config.distributed)
  if config.mode == "eval":
    return evaluate_checkpoint(config, workdir)
  result = meta_train(config, workdir, debug=debug)
  if result.interrupted:
    return {"interrupted": result.stopped, "step": result.steps_done}
  exp = experiment.build(config)
  with contextlib.ExitStack() as stack:
    writer = None
    if jax.process_index() == 0:
      writer = stack.enter_context(contextlib.closing(writers.MetricWriter(workdir)))
    report = write_report(config, workdir, exp, result.params, writer, result.steps_done)
  report["train_seconds"] = result.wall_s  # returned, not written: eval.json is reproducible
  logging.info("meta-training took %.1f s; wrote %s", result.wall_s, workdir)
  return report
