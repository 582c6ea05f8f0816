"""Run outputs shared by every trainer: TensorBoard, metrics.jsonl, config.json, console lines."""

import json
import os
import time
from collections.abc import Mapping

import numpy as np
from absl import logging


def _to_python(value):
  """Turns numpy/jax scalars and arrays into JSON-friendly Python values."""
  if hasattr(value, "tolist"):
    return np.asarray(value).tolist()
  if isinstance(value, Mapping):
    return {k: _to_python(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_to_python(v) for v in value]
  return value


def write_json(path: str, payload) -> None:
  """Writes JSON atomically (temp file + rename), so a crash never leaves half a file."""
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(_to_python(payload), f, indent=2, sort_keys=True)
  os.replace(tmp, path)


class MetricWriter:
  """Writes scalars to TensorBoard and `metrics.jsonl`, images to TensorBoard and PNG files."""

  def __init__(self, workdir: str, config=None):
    from tensorboardX import SummaryWriter

    os.makedirs(workdir, exist_ok=True)
    self.workdir = workdir
    self._tb = SummaryWriter(logdir=os.path.join(workdir, "tensorboard"))
    self._jsonl = open(os.path.join(workdir, "metrics.jsonl"), "a")
    if config is not None:
      write_json(os.path.join(workdir, "config.json"), config.to_dict())

  def scalars(self, step: int, values: Mapping[str, float], prefix: str = "") -> None:
    record = {"step": int(step)}
    for name, value in values.items():
      key = f"{prefix}{name}"
      value = float(value)
      self._tb.add_scalar(key, value, int(step))
      record[key] = value
    self._jsonl.write(json.dumps(record) + "\n")
    self._jsonl.flush()

  def image(self, step: int, name: str, image: np.ndarray) -> None:
    """Logs an HxW or HxWxC image in [0, 1] to TensorBoard."""
    image = np.asarray(image, dtype=np.float32)
    dataformats = "HW" if image.ndim == 2 else "HWC"
    self._tb.add_image(name, np.clip(image, 0.0, 1.0), int(step), dataformats=dataformats)

  def flush(self) -> None:
    self._tb.flush()
    self._jsonl.flush()

  def close(self) -> None:
    self._tb.close()
    self._jsonl.close()


class ProgressLine:
  """One concise console line per logging interval: step, metrics, steps/s and ETA.

  Rate and ETA come from the last `window` logging intervals, and the first interval (which
  includes compilation) is dropped as soon as a later one exists, so the ETA is not inflated by
  start-up cost.
  """

  def __init__(self, total_steps: int, start_step: int = 0, window: int = 5, prefix: str = ""):
    self.total_steps = total_steps
    self.window = window
    self.prefix = prefix
    self._marks = [(time.time(), start_step)]  # (time, step) at the start and at each line
    self._dropped_first = False

  def rate(self) -> float:
    """Steps per second over the recent intervals."""
    (t0, s0), (t1, s1) = self._marks[0], self._marks[-1]
    return (s1 - s0) / max(t1 - t0, 1e-9)

  def eta_seconds(self, step: int) -> float:
    rate = self.rate()
    return (self.total_steps - step) / rate if rate > 0 else float("nan")

  def __call__(self, step: int, values: Mapping[str, float]) -> str:
    self._marks.append((time.time(), step))
    if not self._dropped_first and len(self._marks) > 2:
      self._marks.pop(0)  # the interval that paid for compilation
      self._dropped_first = True
    del self._marks[: max(0, len(self._marks) - (self.window + 1))]
    rate = self.rate()
    parts = " ".join(f"{k}={float(v):.4g}" for k, v in values.items())
    line = (
      f"{self.prefix}step {step}/{self.total_steps} {parts} steps/s={rate:.2f} "
      f"eta={_format_seconds(self.eta_seconds(step))}"
    )
    logging.info(line)
    return line


def _format_seconds(seconds: float) -> str:
  if not np.isfinite(seconds):
    return "?"
  seconds = int(seconds)
  return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"


def drop_records_after(path: str, step: int) -> None:
  """On resume, forgets JSON-lines records past `step` (they will be redone) and cut-off lines."""
  if not os.path.exists(path):
    return
  with open(path) as f:
    lines = f.readlines()
  kept = []
  for line in lines:
    try:
      if json.loads(line)["step"] <= step:
        kept.append(line)
    except (ValueError, KeyError, TypeError):
      continue  # a line cut short by a kill
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    f.writelines(kept)
  os.replace(tmp, path)


def read_jsonl(path: str) -> list:
  """The records of a JSON-lines file ([] if missing); a line cut short by a kill is skipped."""
  if not os.path.exists(path):
    return []
  records = []
  with open(path) as f:
    for line in f:
      try:
        records.append(json.loads(line))
      except ValueError:
        continue
  return records
