"""The training job in-process: non-finite guard, eval mode from a checkpoint, determinism."""

import json

import jax
import numpy as np
import pytest

from learned_rules import experiment as experiment_lib
from learned_rules.common import checkpointing
from learned_rules.common.errors import UserError
from learned_rules.train import meta, parallel, trainer
from tests.train.helpers import committed_steps, read_json, tiny_config


def train_records(workdir):
  lines = (workdir / "metrics.jsonl").read_text().splitlines()
  return [r for r in map(json.loads, lines) if "train/loss" in r]


def test_nan_stops_the_run_naming_step_and_quantity_and_keeps_the_last_checkpoint(tmp_path):
  config = tiny_config(num_steps=5, checkpoint_every=2)
  with pytest.raises(trainer.NonFiniteError, match="non-finite loss at step 3"):
    trainer.train_and_evaluate(config, str(tmp_path), debug=trainer.DebugHooks(poison_step=3))
  assert committed_steps(tmp_path) == [2]
  assert not (tmp_path / "eval.json").exists()


def test_nan_with_skip_skips_that_update_only(tmp_path):
  config = tiny_config(num_steps=4, on_nonfinite="skip")
  trainer.train_and_evaluate(config, str(tmp_path), debug=trainer.DebugHooks(poison_step=2))
  records = train_records(tmp_path)
  assert [r["train/skipped_updates"] for r in records] == [0.0, 1.0, 1.0, 1.0]
  assert np.isnan(records[1]["train/loss"]) and np.isfinite(records[2]["train/loss"])
  checkpointer = checkpointing.Checkpointer(str(tmp_path / "checkpoints"))
  meta_leaves = checkpointer._read_meta(4)["leaves"]
  checkpointer.close()
  assert "params/readout/kernel" in meta_leaves


def test_eval_mode_reads_the_checkpoint_and_tests_other_settings(tmp_path):
  config = tiny_config(num_steps=1)
  trained = trainer.train_and_evaluate(config, str(tmp_path))
  with config.unlocked():
    config.mode = "eval"
  again = trainer.train_and_evaluate(config, str(tmp_path))
  assert again["checkpoint_step"] == 1
  assert again["rules"] == trained["rules"]  # same parameters, same held-out episodes
  # Where it was not trained: more neurons, another topology, a higher load.
  with config.unlocked():
    config.task.pattern_bits = 12
    config.topology.name = "layered"
    config.topology.hidden_sizes = (6,)
    config.eval.k = 3
    config.eval.output = "eval_elsewhere.json"
  other = trainer.train_and_evaluate(config, str(tmp_path))
  written = read_json(tmp_path / "eval_elsewhere.json")
  assert written["task"]["eval_k"] == 3 and written["task"]["num_neurons"] == 12 + 6 + 12
  assert written["task"]["topology"] == "layered"
  assert written["rules"] == other["rules"]
  assert read_json(tmp_path / "eval.json")["task"]["eval_k"] == 2  # the training report stays


def test_eval_mode_without_a_checkpoint_says_so(tmp_path):
  config = tiny_config()
  with config.unlocked():
    config.mode = "eval"
  with pytest.raises(UserError, match="no checkpoint"):
    trainer.train_and_evaluate(config, str(tmp_path))


def test_same_seed_same_metrics_other_seed_differs():
  """The trainer's own step (pmap over this machine's devices), compiled once, run three times."""
  config = tiny_config()
  experiment = experiment_lib.build(config)
  network = experiment.network("learned")
  optimizer = meta.make_optimizer(config.train)
  devices = parallel.select_devices(-1)
  grad_fn = meta.make_grad_fn(
    network, experiment.task, config, parallel.AXIS, parallel.num_shards(devices)
  )
  step = parallel.make_parallel_train_step(grad_fn, optimizer, devices)

  def run(seed: int, steps: int = 3):
    state = parallel.replicate(meta.init_train_state(network, optimizer, seed), devices)
    history = []
    for _ in range(steps):
      state, values = step(state)
      history.append({k: float(v[0]) for k, v in values.items()})
    return history, parallel.unreplicate(state).params

  (history_a, params_a), (history_b, params_b) = run(0), run(0)
  history_c, params_c = run(1)
  assert history_a == history_b
  jax.tree.map(np.testing.assert_array_equal, params_a, params_b)
  assert history_a[0]["loss"] != history_c[0]["loss"]
  differs = jax.tree.map(lambda a, c: not np.array_equal(a, c), params_a, params_c)
  assert any(jax.tree.leaves(differs))


def test_time_cap_stops_with_a_checkpoint_and_a_resumed_cap_counts_the_time_spent(tmp_path):
  config = tiny_config(num_steps=50, max_seconds=0.5, log_every=1)
  slow = trainer.DebugHooks(step_delay_s=0.3)
  result = trainer.meta_train(config, str(tmp_path), debug=slow)
  assert result.stopped == "max_seconds" and 1 <= result.steps_done < 50
  assert committed_steps(tmp_path) == [result.steps_done]  # a checkpoint where it stopped
  assert (tmp_path / "meta_params.msgpack").exists()
  assert [h["step"] for h in result.history] == list(range(1, result.steps_done + 1))
  # Rerun: the cap is already spent, so it stops after one more step.
  again = trainer.meta_train(config, str(tmp_path), debug=slow)
  assert again.stopped == "max_seconds" and again.steps_done == result.steps_done + 1
  assert again.wall_s > result.wall_s
