"""Everything a remember run checks before it compiles or writes: the config, the devices, memory
and the workdir. `validate(config)` is the remember system's check (learned_rules/systems.py);
errors are ConfigError / UserError naming the key or path."""

import os

from learned_rules import experiment
from learned_rules.common.errors import ConfigError, UserError
from learned_rules.train import es, meta, parallel, sizes

ON_NONFINITE = ("stop", "skip")
MODES = ("train", "eval")
SCHEDULES = ("cosine", "constant")


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


def validate(config) -> experiment.Experiment:
  """Every block, before anything compiles or any file is written; returns the built Experiment."""
  if config.mode not in MODES:
    raise ConfigError(f"mode={config.mode!r}: expected one of {MODES}.")
  parallel.initialize_distributed(config.get("distributed"))  # before anything asks for devices
  exp = experiment.build(config)
  validate_train(config.train)
  sizes.validate(config)
  check_memory(config, exp)
  return exp


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
