"""The sharded network equals the one-device network (4 forced CPU devices), and its config."""

import json
import subprocess
import sys

import pytest

from learned_rules import experiment as experiment_lib
from learned_rules import sharded
from learned_rules.common.errors import ConfigError
from tests.train.helpers import ROOT, subprocess_env, tiny_config

# Max |difference| allowed: the backward messages are summed per device, then across devices,
# so sums differ from the one-device order in the last bits (measured: 3e-7 on logits).
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def report():
  env = subprocess_env(XLA_FLAGS="--xla_force_host_platform_device_count=4")
  result = subprocess.run(
    [sys.executable, "-m", "tests.sharded_check"],
    cwd=ROOT,
    env=env,
    capture_output=True,
    text=True,
    timeout=600,
  )
  assert result.returncode == 0, result.stderr[-3000:]
  return json.loads(result.stdout.strip().splitlines()[-1])


def test_episodes_equal_one_device(report):
  for name, values in report["episodes"].items():
    assert values["logits"] <= TOLERANCE, (name, values)
    assert values["state"] <= TOLERANCE, (name, values)
    # Not vacuous: logits are not all zero and the synapses were written.
    assert values["logit_scale"] > 0.05 and values["synapse_change"] > 0.05, (name, values)


def test_one_step_equals_one_device(report):
  assert report["step"] <= TOLERANCE, report


def test_meta_gradient_equals_one_device(report):
  gradient = report["gradient"]
  assert gradient["grad_scale"] > 1e-3, gradient
  assert gradient["grad"] <= TOLERANCE * gradient["grad_scale"], gradient
  assert gradient["loss"] <= TOLERANCE, gradient


def test_trainer_with_model_parallel_equals_one_device(report):
  trained = report["trainer"]
  assert trained["model_types"] == ["Network", "ShardedNetwork"], trained
  assert trained["mesh_devices"] == 4
  assert trained["params"] <= 1e-6, trained
  assert trained["loss"] <= TOLERANCE, trained


def test_model_parallel_config_errors_with_enough_devices(report):
  errors = report["config_errors"]
  assert "set train.num_devices=1" in errors["batch_split_too"], errors
  assert "must split into equal blocks" in errors["indivisible"], errors
  assert errors["ok"] == "", errors


def test_scaling_benchmark_runs_every_variant(report):
  bench = report["bench"]
  assert bench["variants"] == ["one-device Network", "sharded x1", "sharded x2", "sharded x4"]
  assert bench["max_logit_diff"] <= TOLERANCE, bench
  assert bench["notes_shared_cores"]


@pytest.mark.parametrize(
  "overrides, message",
  [
    ({"model_parallel": 0}, "must be an integer >= 1"),
    ({"model_parallel": 64}, "use at most that many"),
  ],
)
def test_bad_model_parallel_is_a_config_error(overrides, message):
  config = tiny_config(num_devices=1, **overrides)
  with pytest.raises(ConfigError, match=message):
    experiment_lib.validate(config)


def test_neurons_must_divide_into_equal_blocks():
  with pytest.raises(ConfigError, match="must split into equal blocks"):
    sharded.check_divisible(10, 4)
  sharded.check_divisible(12, 4)  # divides: no error


def test_default_is_the_one_device_network():
  assert experiment_lib.model_parallel(tiny_config()) == 1
  assert type(experiment_lib.build(tiny_config()).model("learned")).__name__ == "Network"
