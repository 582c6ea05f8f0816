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
  """One concise console line per logging interval: step, metrics, steps/s and ETA."""

  def __init__(self, total_steps: int, start_step: int = 0):
    self.total_steps = total_steps
    self._last_time = time.time()
    self._last_step = start_step

  def __call__(self, step: int, values: Mapping[str, float]) -> str:
    now = time.time()
    rate = (step - self._last_step) / max(now - self._last_time, 1e-9)
    self._last_time, self._last_step = now, step
    eta = (self.total_steps - step) / rate if rate > 0 else float("nan")
    parts = " ".join(f"{k}={float(v):.4g}" for k, v in values.items())
    line = f"step {step}/{self.total_steps} {parts} steps/s={rate:.2f} eta={_format_seconds(eta)}"
    logging.info(line)
    return line


def _format_seconds(seconds: float) -> str:
  if not np.isfinite(seconds):
    return "?"
  seconds = int(seconds)
  return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"
