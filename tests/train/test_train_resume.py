"""Killed with SIGKILL, stopped with Ctrl-C, then finished: the same as an uninterrupted run."""

import json
import os
import signal
import subprocess
import time

from tests.train.helpers import (
  ROOT,
  committed_steps,
  main_command,
  read_json,
  run_main,
  subprocess_env,
)

FLAGS = [
  "--config.train.num_steps=12",
  "--config.train.checkpoint_every=2",
  "--config.eval.baselines=()",
]
SLOW = "tests.train.slow_main"  # the entry point with a 0.4 s step delay: signals land mid-run


def start(workdir, module="experiments.main"):
  return subprocess.Popen(
    main_command(workdir, *FLAGS, module=module),
    cwd=ROOT,
    env=subprocess_env(),
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
  )


def wait_for_checkpoint(process, workdir, after: int, timeout=240.0) -> int:
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline:
    newer = [s for s in committed_steps(workdir) if s > after]
    if newer:
      return newer[-1]
    if process.poll() is not None:
      raise AssertionError(f"run ended before a checkpoint: {process.stderr.read()[-3000:]}")
    time.sleep(0.05)
  process.kill()
  raise AssertionError("no checkpoint appeared in time")


def test_sigkill_then_sigint_then_resume_equals_an_uninterrupted_run(tmp_path):
  reference_dir, resumed_dir = tmp_path / "reference", tmp_path / "resumed"
  reference = start(reference_dir)  # runs alongside the interrupted one

  first = start(resumed_dir, SLOW)
  killed_after = wait_for_checkpoint(first, resumed_dir, after=0)
  first.send_signal(signal.SIGKILL)
  first.communicate()
  assert killed_after < 12 and not os.path.exists(resumed_dir / "eval.json")

  second = start(resumed_dir, SLOW)
  wait_for_checkpoint(second, resumed_dir, after=killed_after)
  second.send_signal(signal.SIGINT)
  _, stderr = second.communicate(timeout=240)
  assert second.returncode == 130, stderr[-3000:]
  assert "Traceback" not in stderr
  assert "checkpoint saved" in stderr
  interrupted_at = committed_steps(resumed_dir)[-1]
  assert interrupted_at < 12 and not os.path.exists(resumed_dir / "eval.json")

  final = run_main(resumed_dir, *FLAGS)
  assert final.returncode == 0, final.stderr[-3000:]
  assert f"resuming from the checkpoint of step {interrupted_at}" in final.stderr
  _, stderr = reference.communicate(timeout=300)
  assert reference.returncode == 0, stderr[-3000:]

  # Bit-identical on CPU: same compiled step, same restored bits, same data-stream position.
  params = [(d / "meta_params.msgpack").read_bytes() for d in (reference_dir, resumed_dir)]
  assert params[0] == params[1]
  assert read_json(reference_dir / "eval.json") == read_json(resumed_dir / "eval.json")
  lines = (resumed_dir / "metrics.jsonl").read_text().splitlines()
  steps = [record["step"] for record in map(json.loads, lines) if "train/loss" in record]
  assert steps == list(range(1, 13))  # records past a checkpoint were dropped on resume
