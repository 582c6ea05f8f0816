"""Test-only entry point: experiments.study with a per-step delay, so a kill lands mid-rule.

  python -m tests.studies.slow_sweep --config=tests/studies/tiny_sweep.py ...
The delay is a `trainer.DebugHooks` option, which no user config can set.
"""

import os

from absl import app

from experiments import study
from learned_rules.train import trainer

if __name__ == "__main__":
  delay = float(os.environ.get("SLOW_SWEEP_STEP_DELAY_S", "0.4"))
  study.RUN_OPTIONS["debug"] = trainer.DebugHooks(step_delay_s=delay)
  app.run(study.main, flags_parser=study.parse_flags)
