"""Multi-host on one machine: two processes (one CPU device each, gloo collectives, coordinator
on 127.0.0.1) train the tiny default config through the real entry point to the same
meta-parameters as one process with two forced CPU devices."""

import json
import socket
import subprocess
import sys

import flax.serialization
import jax
import numpy as np

from tests.train.helpers import ROOT, TINY_FLAGS, committed_steps, subprocess_env

TOLERANCE = 1e-6  # max |param difference| after 3 Adam steps (measured: 0.0)
TIMEOUT_S = 600
FLAGS = [*TINY_FLAGS, "--config.train.num_steps=3", "--config.eval.baselines=()"]


def free_port() -> int:
  with socket.socket() as sock:
    sock.bind(("127.0.0.1", 0))
    return sock.getsockname()[1]


def command(workdir, *flags):
  return [
    sys.executable,
    "-m",
    "experiments.main",
    "--config=configs/remember.py",
    f"--workdir={workdir}",
    *FLAGS,
    *flags,
  ]


def run_two_processes(workdir) -> list[subprocess.CompletedProcess]:
  """Both processes of one run, each on its own single CPU device; killed together on failure."""
  address = f"127.0.0.1:{free_port()}"
  distributed = [
    "--config.distributed.enabled=True",
    f"--config.distributed.coordinator_address={address}",
    "--config.distributed.num_processes=2",
  ]
  env = subprocess_env()
  env.pop("XLA_FLAGS", None)  # one device per process
  processes = [
    subprocess.Popen(
      command(workdir, *distributed, f"--config.distributed.process_id={index}"),
      cwd=ROOT,
      env=env,
      stdout=subprocess.PIPE,
      stderr=subprocess.PIPE,
      text=True,
    )
    for index in range(2)
  ]
  results = []
  try:
    for process in processes:
      stdout, stderr = process.communicate(timeout=TIMEOUT_S)
      results.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
      if process.returncode != 0:  # the other one would wait for its peer until it times out
        break
  finally:
    for process in processes:
      if process.poll() is None:
        process.kill()
        process.wait()
  for index, result in enumerate(results):
    assert result.returncode == 0, (index, result.stderr[-3000:])
  return results


def read_params(path):
  with open(path, "rb") as f:
    return flax.serialization.msgpack_restore(f.read())


def test_two_processes_match_one_process_with_two_devices(tmp_path):
  two_hosts = run_two_processes(tmp_path / "two_processes")
  for index, result in enumerate(two_hosts):
    assert f"distributed: process {index} of 2, 1 local / 2 global devices" in result.stderr
    assert "1 cpu device(s) x 2 process(es), batch 2 per device" in result.stderr

  env = subprocess_env(XLA_FLAGS="--xla_force_host_platform_device_count=2")
  one_host = subprocess.run(
    command(tmp_path / "one_process"),
    cwd=ROOT,
    env=env,
    capture_output=True,
    text=True,
    timeout=TIMEOUT_S,
  )
  assert one_host.returncode == 0, one_host.stderr[-3000:]
  assert "2 cpu device(s) x 1 process(es), batch 2 per device" in one_host.stderr

  params_two = read_params(tmp_path / "two_processes" / "meta_params.msgpack")
  params_one = read_params(tmp_path / "one_process" / "meta_params.msgpack")
  leaves_two, leaves_one = jax.tree.leaves(params_two), jax.tree.leaves(params_one)
  assert len(leaves_two) == len(leaves_one) > 0
  diff = max(float(np.max(np.abs(a - b))) for a, b in zip(leaves_two, leaves_one, strict=True))
  assert diff <= TOLERANCE, diff

  # Process 0 alone wrote the reports; every process saved the checkpoint together.
  eval_two = json.loads((tmp_path / "two_processes" / "eval.json").read_text())
  eval_one = json.loads((tmp_path / "one_process" / "eval.json").read_text())
  assert eval_two["rules"]["learned"] == eval_one["rules"]["learned"]
  assert committed_steps(tmp_path / "two_processes") == [3]
  lines = (tmp_path / "two_processes" / "metrics.jsonl").read_text().splitlines()
  assert [json.loads(line)["step"] for line in lines if "train/loss" in line] == [1, 2, 3]


def test_enabled_without_a_coordinator_is_a_config_error(tmp_path):
  """Off a TPU pod or SLURM, distributed.enabled alone cannot find its peers: one error line."""
  env = subprocess_env()
  for name in ("SLURM_JOB_ID", "OMPI_MCA_orte_hnp_uri", "PMI_RANK"):
    env.pop(name, None)
  result = subprocess.run(
    command(tmp_path / "run", "--config.distributed.enabled=True"),
    cwd=ROOT,
    env=env,
    capture_output=True,
    text=True,
    timeout=120,
  )
  assert result.returncode == 2, result.stderr[-3000:]
  last = result.stderr.strip().splitlines()[-1]
  assert last.startswith("error: bad config: distributed.enabled=True:"), last
  assert "distributed.coordinator_address" in last, last
