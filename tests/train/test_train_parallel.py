"""Data parallel: 2 forced CPU devices give the same meta-parameters as 1 device, same batch."""

import json
import subprocess
import sys

from tests.train.helpers import ROOT, subprocess_env

TOLERANCE = 1e-6  # max |param difference| after 3 Adam steps (gradient sums differ in order)


def test_two_devices_match_one_device():
  env = subprocess_env(XLA_FLAGS="--xla_force_host_platform_device_count=2")
  result = subprocess.run(
    [sys.executable, "-m", "tests.train.parallel_check"],
    cwd=ROOT,
    env=env,
    capture_output=True,
    text=True,
    timeout=300,
  )
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads(result.stdout.strip().splitlines()[-1])
  assert report["step"] == 3
  assert report["replicas_agree"]
  assert report["max_param_diff"] <= TOLERANCE, report
  for a, b in zip(report["losses_one"], report["losses_two"], strict=True):
    assert abs(a - b) <= 1e-5 * max(1.0, abs(a)), report
