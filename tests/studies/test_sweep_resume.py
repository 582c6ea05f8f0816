"""A sweep killed (SIGKILL) while meta-training a rule resumes it from that rule's checkpoint."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

from tests.train.helpers import ROOT, committed_steps, subprocess_env

STEPS = 12  # tests/studies/tiny_sweep.py: train_steps, with a checkpoint every 2 steps


def sweep_command(directory, module="experiments.study"):
  return [
    sys.executable,
    "-m",
    module,
    "--config=tests/studies/tiny_sweep.py",
    f"--config.records={directory}/records.jsonl",
    f"--config.params_dir={directory}/params",
    f"--config.work_dir={directory}/runs",
  ]


def start(directory, module="experiments.study"):
  os.makedirs(directory, exist_ok=True)
  stderr = open(os.path.join(directory, f"stderr_{time.monotonic_ns()}.txt"), "w+")
  process = subprocess.Popen(
    sweep_command(directory, module),
    cwd=ROOT,
    env=subprocess_env(),
    stdout=subprocess.DEVNULL,
    stderr=stderr,
    text=True,
  )
  return process, stderr


def finish(process, stderr, timeout=240) -> str:
  process.wait(timeout=timeout)
  stderr.seek(0)
  text = stderr.read()
  stderr.close()
  assert process.returncode == 0, text[-3000:]
  return text


def rule_workdirs(directory) -> list[str]:
  return glob.glob(os.path.join(directory, "runs", "*"))


def wait_for_checkpoint(process, directory, timeout=240.0) -> None:
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline:
    if any(committed_steps(w) for w in rule_workdirs(directory)):
      return
    if process.poll() is not None:
      raise AssertionError("the sweep ended before its rule's first checkpoint")
    time.sleep(0.05)
  process.kill()
  raise AssertionError("no checkpoint appeared in time")


def read(path):
  with open(path) as f:
    return [json.loads(line) for line in f]


def test_killed_sweep_resumes_the_rule_from_its_checkpoint(tmp_path):
  reference_dir, resumed_dir = str(tmp_path / "reference"), str(tmp_path / "resumed")
  reference = start(reference_dir)  # uninterrupted, alongside the interrupted one

  first, first_log = start(resumed_dir, "tests.studies.slow_sweep")
  wait_for_checkpoint(first, resumed_dir)
  first.send_signal(signal.SIGKILL)
  first.wait()
  first_log.close()
  (workdir,) = rule_workdirs(resumed_dir)
  killed_at = committed_steps(workdir)[-1]
  assert 0 < killed_at < STEPS
  assert not os.path.exists(os.path.join(resumed_dir, "params"))
  assert not os.path.exists(os.path.join(resumed_dir, "records.jsonl"))

  stderr = finish(*start(resumed_dir))
  assert f"resuming from the checkpoint of step {killed_at}" in stderr
  finish(*reference)

  # The rule's parameters file is named like the workdir, and bit-identical to the reference's.
  name = os.path.basename(workdir) + ".msgpack"
  params = [(tmp_path / d / "params" / name).read_bytes() for d in ("reference", "resumed")]
  assert params[0] == params[1]
  records = {d: read(os.path.join(d, "records.jsonl")) for d in (reference_dir, resumed_dir)}
  (train,) = [r for r in records[resumed_dir] if r["kind"] == "train"]
  assert train["steps_done"] == STEPS and train["stopped"] == "num_steps"
  assert [h["step"] for h in train["history"]] == list(range(1, STEPS + 1))
  evals = {d: [r for r in rs if r["kind"] == "eval"] for d, rs in records.items()}
  assert len(evals[resumed_dir]) == 1
  accuracy = [evals[d][0]["hidden_bit_accuracy"] for d in (reference_dir, resumed_dir)]
  assert accuracy[0] == accuracy[1]
