"""The bench study through its entry point on a tiny size: every field is there, no timing
asserted."""

import json
import os
import subprocess
import sys

import pytest

from learned_rules.common.errors import ConfigError
from learned_rules.rules import learned
from learned_rules.studies import bench
from tests.studies.helpers import study_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRACTIONS = (
  "forward_fraction_of_matmul",
  "meta_step_fraction_of_matmul",
  "forward_fraction_of_matmul_tanh",
  "meta_step_fraction_of_matmul_tanh",
)


def run_bench(*args):
  # The benchmark compiles at XLA's default level, as a user's run does (conftest lowers it for
  # the other tests): its fractions compare the engine with a matmul compiled the same way.
  env = dict(os.environ)
  env["XLA_FLAGS"] = " ".join(
    f for f in env.get("XLA_FLAGS", "").split() if "xla_backend_optimization_level" not in f
  )
  return subprocess.run(
    [sys.executable, "-m", "experiments.study", "--config=configs/studies/bench.py", *args],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=900,
    env=env,
  )


def test_entry_point_writes_the_limit_beside_the_engine(tmp_path):
  path = tmp_path / "bench.jsonl"
  result = run_bench(
    "--config.sizes=(16,)",
    "--config.topologies=fully_connected",  # each topology's engine is tested elsewhere
    "--config.k=1",
    "--config.repeats=1",
    "--config.matmul_size=128",
    "--config.tanh_elements=4096",
    "--config.batch=2",
    "--config.memory_size=16",
    "--config.episode_lengths=(8, 14)",
    "--config.remat_every=(1, 4)",
    "--config.layout_size=32",
    "--config.kernel_sizes=(16,)",
    f"--config.records={path}",
  )
  assert result.returncode == 0, result.stderr[-3000:]
  assert "fwd_frac" in result.stdout and "time_vs_k=1" in result.stdout
  (record,) = [json.loads(line) for line in path.read_text().splitlines()]
  assert record["kind"] == bench.KIND and record["command"].startswith(
    "python -m experiments.study"
  )
  report = record["report"]
  assert [row["topology"] for row in report["sizes"]] == ["fully_connected"]
  for row in report["sizes"]:
    assert row["num_neurons"] == 16 and row["episode_steps"] == 8
    assert row["matmul_gflops"] > 0 and row["tanh_gelements_per_s"] > 0
    assert row["forward_flops_per_synapse_update"] > 0
    # A meta-step's online step does a forward, a recomputed forward and a backward.
    assert row["meta_step_flops_per_synapse_update"] > 2 * row["forward_flops_per_synapse_update"]
    assert row["meta_step_memory_bytes"] > row["forward_memory_bytes"] > 0
    for name in FRACTIONS:  # a ratio of two timings: positive and finite, no bound (no timed test)
      assert 0 < row[name] < float("inf"), (row["topology"], name, row[name])
    updates = row["batch"] * row["episode_steps"] * row["num_synapses"]
    for name in ("forward", "meta_step"):
      assert row[f"{name}_synapse_updates_per_s"] == pytest.approx(updates / row[f"{name}_s"])
  # Layouts: sparse and layered forward, three storages, each timed.
  assert [row["topology"] for row in report["layouts"]] == ["sparse", "layered"]
  for row in report["layouts"]:
    assert row["num_neurons"] == 32
    for name in ("dense_vmap", "dense_grid", "per_synapse"):
      assert row[f"forward_{name}_s"] > 0
    assert row["speedup_vs_dense_vmap"] > 0 and row["speedup_vs_dense_grid"] > 0
  assert "x_vs_vmap" in result.stdout and "fwd_x" in result.stdout
  assert "Mupd/s_grid" in result.stdout and "fwd_Mupd/s" in result.stdout
  (kernel,) = report["kernels"]
  assert kernel["num_neurons"] == 16 and kernel["forward_speedup"] > 0
  # Both kernels are counted at the same work per update: fractions in the ratio of the times.
  assert kernel["grid_flops_per_synapse_update"] == kernel["vmap_flops_per_synapse_update"]
  updates = kernel["batch"] * kernel["episode_steps"] * kernel["num_synapses"]
  for name in ("vmap", "grid"):
    for step in ("forward", "meta_step"):
      seconds = kernel[f"{name}_{step}_s"]
      assert seconds > 0 and kernel[f"{name}_{step}_fraction_of_matmul"] > 0
      assert kernel[f"{name}_{step}_synapse_updates_per_s"] == pytest.approx(updates / seconds)
  memory = {(r["episode_steps"], r["remat_every"]): r for r in report["memory_vs_length"]}
  assert set(memory) == {(8, 1), (8, 4), (14, 1), (14, 4)}
  assert memory[14, 1]["meta_step_over_every_step"] == 1.0
  assert [g["remat_every"] for g in report["memory_growth"]] == [1, 4]
  for growth in report["memory_growth"]:
    assert growth["memory_ratio"] >= 1.0


def test_flops_per_synapse_update_do_not_depend_on_the_kernel(monkeypatch):
  # Chunks of 4 rows: the block kernel loops over 4 chunks at N = 16, and XLA's cost analysis
  # of that loop counts its body once.
  monkeypatch.setattr(learned, "GRID_CHUNK_SYNAPSES", 64)
  assert learned._chunk_rows(16, 16) == 4
  config = bench.base_config("fully_connected", 16, study_config("bench", batch=2), load=1)
  reference, chunked = (
    bench.Engine(config, forward=False, meta_step=False, kernel=kernel)
    for kernel in ("vmap", "auto")
  )
  assert reference.step_flops > 0 and reference.grad_flops > 0
  for name in ("step_flops", "step_transcendentals", "grad_flops", "grad_transcendentals"):
    assert getattr(chunked, name) == pytest.approx(getattr(reference, name), rel=1e-3), name


def test_bad_options_are_one_error_line():
  result = run_bench("--config.sizes=(8,)", "--config.memory_size=0")
  assert result.returncode == 2
  assert result.stderr.strip().splitlines()[-1] == "error: bad config: N=8: sizes must be >= 16."


def test_episode_length_must_be_one_the_task_makes():
  options = study_config("bench")
  assert bench.load_for_length(26, options) == 4 and bench.load_for_length(98, options) == 16
  with pytest.raises(ConfigError, match="episode length 27"):
    bench.load_for_length(27, options)
