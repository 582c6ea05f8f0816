"""Ctrl-C and SIGTERM as a request to stop after the current step, with a checkpoint first."""

import contextlib
import signal
import threading

from absl import logging


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
      yield self  # signal handlers can only be set from the main thread
      return
    previous = {s: signal.signal(s, self) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
      yield self
    finally:
      for s, handler in previous.items():
        signal.signal(s, handler)
