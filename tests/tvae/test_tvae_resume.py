"""TVAE checkpoints: a stopped run resumed in the same workdir ends exactly where an uninterrupted
run ends (same batches, same noise, same parameters, same evaluation)."""

import json
import os
import shutil
import signal

import jax
import numpy as np
import pytest

from configs.tvae import mnist
from learned_rules.tvae import train

STEPS = 12  # 8 steps per epoch: an evaluation at step 8 (end of epoch 1) and at the end


def tiny_config(**changes):
  config = mnist.get_config()
  overrides = {
    "data.dataset": "synthetic",
    "data.synthetic_size": 32,
    "data.seq_len": 5,
    "model.n_caps": 2,
    "model.cap_dim": 4,
    "model.time_window": 3,
    "batch_size": 4,
    "max_steps": STEPS,
    "log_every": 2,
    "checkpoint_every": 5,
    "eval_every_epochs": 1,
    "eval_size": 8,
    "eval_batch_size": 8,
    "is_samples": 2,
    "num_picture_sequences": 2,
    **changes,
  }
  for dotted, value in overrides.items():
    *path, leaf = dotted.split(".")
    target = config
    for part in path:
      target = target[part]
    target[leaf] = value
  return config


def capture_final_states(monkeypatch) -> list:
  """The (params, key) each later run ends with, in order (taken where the pictures are drawn)."""
  captured = []
  draw = train.figures.write_pictures

  def capture(writer, step, params, model, x, frame_shape, key, workdir):
    captured.append((jax.device_get(params), np.asarray(key)))
    return draw(writer, step, params, model, x, frame_shape, key, workdir)

  monkeypatch.setattr(train.figures, "write_pictures", capture)
  return captured


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
  """The uninterrupted run: (eval.json payload, final (params, key), workdir)."""
  workdir = str(tmp_path_factory.mktemp("whole"))
  with pytest.MonkeyPatch.context() as monkeypatch:
    captured = capture_final_states(monkeypatch)
    result = train.train_and_evaluate(tiny_config(), workdir)
  return result, captured[0], workdir


@pytest.fixture
def final_states(monkeypatch):
  return capture_final_states(monkeypatch)


def assert_same_tree(a, b):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def records(workdir, prefix):
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    lines = [json.loads(line) for line in f]
  return [r for r in lines if any(k.startswith(prefix) for k in r)]


def without_time(result):
  return {
    k: v for k, v in result.items() if k not in ("train_seconds", "eval_seconds", "evaluated_at")
  }


def test_resumed_run_matches_an_uninterrupted_one(tmp_path, whole, final_states):
  whole, whole_state, whole_dir = whole
  split = str(tmp_path / "split")
  half = train.train_and_evaluate(tiny_config(max_steps=STEPS // 2), split)
  assert half["steps"] == STEPS // 2
  assert sorted(os.listdir(os.path.join(split, "checkpoints"))) == ["5", "6"]
  resumed = train.train_and_evaluate(tiny_config(), split)

  assert_same_tree(whole_state, final_states[1])  # parameters and the data-stream key
  assert without_time(resumed) == without_time(whole)
  assert records(split, "train/") == records(whole_dir, "train/")
  # The short run's final evaluation at step 6 stays; the others are the uninterrupted run's.
  whole_tests = records(whole_dir, "test/")
  assert [r["step"] for r in whole_tests] == [8, STEPS]
  assert [r for r in records(split, "test/") if r["step"] != 6] == whole_tests

  # Rerunning a finished run restores the last checkpoint, trains nothing, logs nothing twice.
  again = train.train_and_evaluate(tiny_config(), split)
  assert without_time(again) == without_time(whole)
  assert len(records(split, "test/")) == 3


def test_signal_saves_a_checkpoint_and_a_crash_resumes_from_the_last_one(
  tmp_path, whole, final_states, monkeypatch
):
  whole, whole_state, _ = whole
  workdir = str(tmp_path / "stopped")
  make_step = train.make_train_step

  def interrupting_step(*args):  # SIGINT arrives during the 7th step
    step = make_step(*args)
    calls = []

    def wrapped(*step_args):
      calls.append(1)
      if len(calls) == 7:
        os.kill(os.getpid(), signal.SIGINT)
      return step(*step_args)

    return wrapped

  monkeypatch.setattr(train, "make_train_step", interrupting_step)
  stopped = train.train_and_evaluate(tiny_config(), workdir)
  assert stopped == {"interrupted": "SIGINT", "step": 7}
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["5", "7"]
  monkeypatch.setattr(train, "make_train_step", make_step)

  # A crash after step 7 that lost its checkpoint: resume from step 5, forget later records.
  shutil.rmtree(os.path.join(workdir, "checkpoints", "7"))
  resumed = train.train_and_evaluate(tiny_config(), workdir)
  assert_same_tree(whole_state, final_states[0])
  assert without_time(resumed) == without_time(whole)
  steps = [r["step"] for r in records(workdir, "train/")]
  assert steps == [2, 4, 6, 8, 10, 12]  # step 6 logged once, by the resumed run


def test_non_finite_loss_names_the_step_and_the_checkpoint(tmp_path):
  config = tiny_config(**{"model.mu_init": float("nan")})
  with pytest.raises(train.NonFiniteError, match="at step 1: .*no checkpoint yet"):
    train.train_and_evaluate(config, str(tmp_path))
