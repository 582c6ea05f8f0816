"""Test-only entry point: experiments.sweep with a per-step delay, so a kill lands mid-rule.

  python -m tests.sweeps.slow_sweep --config=tests/sweeps/tiny_sweep.py ...
The delay is a `trainer.DebugHooks` option, which no user config can set.
"""

import os

from absl import app

from experiments import sweep
from learned_rules.train import trainer

if __name__ == "__main__":
  delay = float(os.environ.get("SLOW_SWEEP_STEP_DELAY_S", "0.4"))
  sweep.TRAIN_OPTIONS["debug"] = trainer.DebugHooks(step_delay_s=delay)
  app.run(sweep.main, flags_parser=sweep.parse_flags)
