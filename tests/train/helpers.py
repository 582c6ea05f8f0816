"""Shared by the training-infrastructure tests: tiny configs and the entry point in a subprocess."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT, tiny_remember_config

TINY_FLAGS = [
  "--config.task.pattern_bits=8",
  "--config.task.k_min=1",
  "--config.task.k_max=2",
  "--config.rule.neuron_state_size=4",
  "--config.rule.synapse_state_size=2",
  "--config.rule.message_size=4",
  "--config.rule.hidden_size=8",
  "--config.train.batch_size=4",
  "--config.train.log_every=1",
  "--config.eval.num_episodes=8",
  "--config.eval.batch_size=4",
]


def tiny_config(**train):
  """The shared tiny config without baselines (faster), with `train.<key>=value` overrides."""
  config = tiny_remember_config()
  with config.unlocked():
    config.eval.baselines = ()
    for key, value in train.items():
      config.train[key] = value
  return config


def main_command(workdir, *flags, module="experiments.main"):
  """The entry point as a user runs it (`module`: tests.train.slow_main adds a step delay)."""
  return [
    sys.executable,
    "-m",
    module,
    "--config=configs/remember.py",
    f"--workdir={workdir}",
    *TINY_FLAGS,
    *flags,
  ]


def subprocess_env(**extra):
  env = dict(os.environ)
  env.setdefault("JAX_PLATFORMS", "cpu")
  env.update(extra)
  return env


def run_main(workdir, *flags, timeout=300):
  return subprocess.run(
    main_command(workdir, *flags),
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=timeout,
    env=subprocess_env(),
  )


def read_json(path):
  with open(path) as f:
    return json.load(f)


def committed_steps(workdir) -> list[int]:
  """Checkpoint steps orbax has finished writing (temporary directories are not steps)."""
  directory = os.path.join(workdir, "checkpoints")
  if not os.path.isdir(directory):
    return []
  return sorted(int(name) for name in os.listdir(directory) if name.isdigit())
