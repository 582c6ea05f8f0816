"""Checkpoints of a whole training state with orbax, checked on the way back in (any system).

A checkpoint `<workdir>/checkpoints/<step>/` holds `state` (parameters, optimizer state,
step and RNG key, as a nested dict of arrays) and `meta` (JSON: step, data-stream position,
every leaf's shape and dtype, and a SHA-256 of all leaf bytes). On restore the latest one is
checked first against the config (shapes: a mismatch stops with the differing keys) and then
against its checksum (damage: a warning names it, it is moved to `checkpoints.damaged/` and
the previous one is tried).
"""

import contextlib
import hashlib
import logging as py_logging
import os
import shutil
import sys
import time

import flax.serialization
import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging

from learned_rules.common.errors import UserError

FORMAT_VERSION = 1


@contextlib.contextmanager
def _quiet():
  """Orbax logs every file it renames at INFO; keep the console to one line per event."""
  verbosity = logging.get_verbosity()
  logging.set_verbosity(min(verbosity, logging.WARNING))
  try:
    yield
  finally:
    logging.set_verbosity(verbosity)


def _is_late_read_callback(unraisable) -> bool:
  """A tensorstore read finishing after orbax's event loop closed (see `_drop_late_reads`)."""
  if unraisable.exc_type is not RuntimeError or unraisable.object is not None:
    return False
  if str(unraisable.exc_value) != "Event loop is closed":
    return False
  tb = unraisable.exc_traceback
  return tb is not None and tb.tb_frame.f_code.co_name == "call_soon_threadsafe"


def _drop_late_reads() -> None:
  """Silences the tracebacks of reads still in flight when a damaged checkpoint's read failed.

  orbax reads a checkpoint's arrays concurrently (tensorstore futures awaited on an event loop of
  its own). When one read fails (a truncated file), orbax raises at once and closes that loop;
  each read still in flight then posts its result to the closed loop from a tensorstore thread,
  and Python prints the RuntimeError as an unraisable exception: dozens of `Event loop is closed`
  tracebacks after the one warning that names the damaged checkpoint. Those results belong to the
  checkpoint being set aside, so they are dropped; every other unraisable exception goes to the
  previous hook. Installed once per process.
  """
  previous = sys.unraisablehook
  if getattr(previous, "drops_late_checkpoint_reads", False):
    return

  def hook(unraisable):
    if not _is_late_read_callback(unraisable):
      previous(unraisable)

  hook.drops_late_checkpoint_reads = True
  sys.unraisablehook = hook


# Checkpoint directories whose state read was attempted by `restore_latest` in this process.
_READ_ATTEMPTED: set[str] = set()


class _DropUnretrievedReads(py_logging.Filter):
  """Drops asyncio's report of a failed read of a checkpoint that `restore_latest` set aside.

  The second form of the same late reads (see `_drop_late_reads`): when orbax raises on the first
  failed read, the other read tasks that failed too are never awaited, and asyncio logs each one,
  with its traceback, as `Task exception was never retrieved` when it is collected. Only records
  naming a checkpoint that `restore_latest` tried to read are dropped; the warning that names the
  damaged checkpoint is logged by `_set_aside`, once.
  """

  drops_unretrieved_checkpoint_reads = True

  def filter(self, record) -> bool:
    if "never retrieved" not in str(record.msg):
      return True
    text = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
      text += str(record.exc_info[1])
    return not any(path in text for path in _READ_ATTEMPTED)


def _drop_unretrieved_reads() -> None:
  """Installs `_DropUnretrievedReads` on the asyncio logger, once per process."""
  asyncio_logger = py_logging.getLogger("asyncio")
  filters = asyncio_logger.filters
  if not any(getattr(f, "drops_unretrieved_checkpoint_reads", False) for f in filters):
    asyncio_logger.addFilter(_DropUnretrievedReads())


class CheckpointMismatchError(UserError):
  """A checkpoint whose tree or shapes do not match the state the config builds."""


def to_host(state) -> dict:
  """TrainState (or any pytree) -> nested dict of numpy arrays, the form that is saved."""
  return jax.tree.map(np.asarray, flax.serialization.to_state_dict(jax.device_get(state)))


def leaf_name(path) -> str:
  return "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path)


def describe(tree) -> dict:
  """{leaf name: [shape, dtype]} of a host tree."""
  return {
    leaf_name(path): [list(np.shape(x)), str(np.asarray(x).dtype)]
    for path, x in jax.tree_util.tree_leaves_with_path(tree)
  }


def checksum(tree) -> str:
  digest = hashlib.sha256()
  for path, x in jax.tree_util.tree_leaves_with_path(tree):
    x = np.ascontiguousarray(np.asarray(x))
    digest.update(leaf_name(path).encode())
    digest.update(str(x.dtype).encode())
    digest.update(str(x.shape).encode())
    digest.update(x.tobytes())
  return digest.hexdigest()


def differences(saved: dict, expected: dict) -> list[str]:
  """Human-readable lines for every key whose presence, shape or dtype differs."""
  lines = []
  for name in sorted(set(saved) | set(expected)):
    if name not in expected:
      lines.append(f"  {name}: in the checkpoint {saved[name][0]}, not in this config")
    elif name not in saved:
      lines.append(f"  {name}: in this config {expected[name][0]}, not in the checkpoint")
    elif saved[name] != expected[name]:
      (s_shape, s_dtype), (e_shape, e_dtype) = saved[name], expected[name]
      lines.append(f"  {name}: checkpoint {s_shape} {s_dtype}, config {e_shape} {e_dtype}")
  return lines


class Checkpointer:
  """Saves every so often, keeps the last few, restores the latest good one."""

  def __init__(self, directory: str, max_to_keep: int = 3, create: bool = True):
    self.directory = os.path.abspath(directory)
    self.max_to_keep = max_to_keep
    self.create = create
    self.restored_extra = {}
    self._manager = self._open()

  def _open(self):
    options = ocp.CheckpointManagerOptions(
      max_to_keep=self.max_to_keep, create=self.create, enable_async_checkpointing=False
    )
    with _quiet():
      return ocp.CheckpointManager(self.directory, options=options)

  def steps(self) -> list[int]:
    return sorted(self._manager.all_steps())

  def latest_step(self):
    steps = self.steps()
    return steps[-1] if steps else None

  def save(self, step: int, state, extra: dict | None = None) -> None:
    """Writes `state` at `step` (synchronously; orbax commits it atomically by renaming).

    `extra`: JSON-able facts to keep beside it (the trainer keeps its elapsed wall time);
    `restored_extra` holds them after `restore_latest`.
    """
    host = to_host(state)
    meta = {
      "extra": dict(extra or {}),
      "format_version": FORMAT_VERSION,
      "step": int(step),
      "data_stream_position": int(step),  # the next meta-step's episodes: fold_in(rng, step)
      "leaves": describe(host),
      "checksum": checksum(host),
      "saved_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    with _quiet():
      self._manager.save(
        int(step),
        args=ocp.args.Composite(state=ocp.args.StandardSave(host), meta=ocp.args.JsonSave(meta)),
        force=True,
      )
      self._manager.wait_until_finished()

  def _read_meta(self, step: int) -> dict:
    with _quiet():
      args = ocp.args.Composite(meta=ocp.args.JsonRestore())
      return self._manager.restore(step, args=args)["meta"]

  def _read_state(self, step: int, template: dict) -> dict:
    abstract = jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(np.shape(x), np.asarray(x).dtype), template
    )
    with _quiet():
      args = ocp.args.Composite(state=ocp.args.StandardRestore(abstract))
      restored = self._manager.restore(step, args=args)["state"]
    return jax.tree.map(np.asarray, restored)

  def _set_aside(self, step: int, reason: str) -> None:
    source = os.path.join(self.directory, str(step))
    target_root = self.directory.rstrip("/") + ".damaged"
    os.makedirs(target_root, exist_ok=True)
    target = os.path.join(target_root, f"{step}_{time.strftime('%Y%m%d_%H%M%S')}")
    logging.warning(
      "checkpoint %s is damaged (%s); moved it to %s and falling back to the previous one.",
      source,
      reason,
      target,
    )
    if jax.process_index() == 0 and os.path.exists(source):
      shutil.move(source, target)
    with _quiet():
      self._manager.close()
    self._manager = self._open()

  def restore_latest(self, template, check_only=None):
    """(state like `template`, step) from the latest good checkpoint, or (None, None).

    `template` is the state this config builds (a TrainState or nested dict); its shapes are
    the expected ones. `check_only`, a key prefix such as 'params', limits the shape check to
    that part (evaluation needs only the meta-parameters). Raises CheckpointMismatchError when
    the latest intact checkpoint does not fit.
    """
    expected_tree = to_host(template)
    expected = describe(expected_tree)
    _drop_late_reads()
    _drop_unretrieved_reads()
    while True:
      step = self.latest_step()
      if step is None:
        return None, None
      path = os.path.join(self.directory, str(step))
      try:
        meta = self._read_meta(step)
        saved = meta["leaves"]
      except Exception as error:  # noqa: BLE001 - any unreadable metadata means damage
        self._set_aside(step, f"unreadable metadata: {type(error).__name__}: {error}"[:300])
        continue
      keep = lambda d: {
        k: v for k, v in d.items() if check_only is None or k.startswith(check_only)
      }
      lines = differences(keep(saved), keep(expected))
      if lines:
        raise CheckpointMismatchError(
          f"checkpoint {path} does not match this config; differing keys "
          "(checkpoint vs config):\n" + "\n".join(lines) + "\nUse the config it was trained "
          "with (see config.json in the workdir) or a fresh workdir."
        )
      _READ_ATTEMPTED.add(os.path.join(path, "state"))
      try:
        restored = self._read_state(step, expected_tree)
      except Exception as error:  # noqa: BLE001 - truncated or missing files
        self._set_aside(step, f"unreadable state: {type(error).__name__}: {str(error)[:200]}")
        continue
      if checksum(restored) != meta.get("checksum"):
        self._set_aside(step, "checksum mismatch")
        continue
      state = flax.serialization.from_state_dict(template, restored)
      self.restored_extra = meta.get("extra", {})
      return state, step

  def restore_at(self, step: int, template):
    """(state like `template`, the `extra` saved with it) of the checkpoint of `step`.

    For reading a run's history (learning curves); raises if that checkpoint does not fit.
    """
    expected_tree = to_host(template)
    meta = self._read_meta(step)
    lines = differences(meta["leaves"], describe(expected_tree))
    if lines:
      raise CheckpointMismatchError(
        f"checkpoint {os.path.join(self.directory, str(step))} does not match: " + "; ".join(lines)
      )
    restored = self._read_state(step, expected_tree)
    return flax.serialization.from_state_dict(template, restored), meta.get("extra", {})

  def close(self) -> None:
    with _quiet():
      self._manager.close()
