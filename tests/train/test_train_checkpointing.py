"""Checkpoints: fallback past a damaged latest one, and a clear message for a foreign one."""

import logging
import os

import jax
import numpy as np
import pytest

from learned_rules import experiment as experiment_lib
from learned_rules.common import checkpointing
from learned_rules.train import meta
from tests.train.helpers import run_main, tiny_config


def template_state(config):
  experiment = experiment_lib.build(config)
  network = experiment.network(config.rule.name)
  return meta.init_train_state(network, meta.make_optimizer(config.train), config.seed)


def shifted(state, amount):
  """A distinguishable state per step."""
  params = jax.tree.map(lambda x: np.asarray(x) + amount, state.params)
  return state.replace(step=np.int32(amount), params=params)


def save_steps(directory, state, steps):
  checkpointer = checkpointing.Checkpointer(directory, max_to_keep=3)
  for step in steps:
    checkpointer.save(step, shifted(state, step))
  checkpointer.close()


def assert_same_tree(a, b):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize("damage", ["truncate_data", "garbage_metadata"])
def test_damaged_latest_checkpoint_falls_back_to_the_previous_one(tmp_path, caplog, damage):
  state = template_state(tiny_config())
  directory = str(tmp_path / "checkpoints")
  save_steps(directory, state, [1, 2, 3])
  latest = os.path.join(directory, "3")
  if damage == "truncate_data":  # a copy or disk that lost the end of every data file
    for root, _, files in os.walk(os.path.join(latest, "state")):
      for name in files:
        path = os.path.join(root, name)
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
          f.truncate(size // 2)
  else:
    with open(os.path.join(latest, "meta", "metadata"), "w") as f:
      f.write("{not json")

  checkpointer = checkpointing.Checkpointer(directory, max_to_keep=3)
  with caplog.at_level(logging.WARNING):
    restored, step = checkpointer.restore_latest(state)
  checkpointer.close()
  assert step == 2
  assert_same_tree(restored, shifted(state, 2))
  assert any(latest in r.getMessage() and "damaged" in r.getMessage() for r in caplog.records)
  assert not os.path.exists(latest)  # set aside, so step 3 can be written again
  assert os.listdir(directory + ".damaged")


def test_shape_mismatch_names_the_keys(tmp_path):
  config = tiny_config()
  directory = str(tmp_path / "checkpoints")
  save_steps(directory, template_state(config), [1])
  other = tiny_config()
  with other.unlocked():
    other.rule.neuron_state_size = 5
  checkpointer = checkpointing.Checkpointer(directory)
  with pytest.raises(checkpointing.CheckpointMismatchError) as error:
    checkpointer.restore_latest(template_state(other))
  checkpointer.close()
  message = str(error.value)
  assert "params/neuron/Dense_0/kernel" in message
  assert "params/readout/kernel: checkpoint [4, 1] float32, config [5, 1] float32" in message
  assert os.path.exists(os.path.join(directory, "1"))  # a foreign checkpoint is never moved


def test_shape_mismatch_through_main_is_a_message_not_a_traceback(tmp_path):
  directory = str(tmp_path / "checkpoints")
  save_steps(directory, template_state(tiny_config()), [1])
  result = run_main(tmp_path, "--config.mode=eval", "--config.rule.neuron_state_size=6")
  assert result.returncode == 1, result.stderr[-2000:]
  assert "does not match this config" in result.stderr
  assert "params/neuron/Dense_0/kernel" in result.stderr
  assert "Traceback" not in result.stderr


def test_unretrieved_reads_of_a_set_aside_checkpoint_are_dropped_and_others_kept(tmp_path):
  """asyncio's `Task exception was never retrieved` for a checkpoint already tried is dropped."""
  state = template_state(tiny_config())
  directory = str(tmp_path / "checkpoints")
  save_steps(directory, state, [1])
  checkpointer = checkpointing.Checkpointer(directory)
  checkpointer.restore_latest(state)  # registers the checkpoint it read
  checkpointer.close()
  read_path = os.path.join(os.path.abspath(directory), "1", "state")
  drop = checkpointing._DropUnretrievedReads()

  def record(msg, exc=None):
    exc_info = (type(exc), exc, None) if exc is not None else None
    return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, msg, None, exc_info)

  error = ValueError(f'OUT_OF_RANGE: Error reading "{read_path}/d/abc"')
  assert not drop.filter(record("Task exception was never retrieved", error))
  other = ValueError('OUT_OF_RANGE: Error reading "/elsewhere/state/d/abc"')
  assert drop.filter(record("Task exception was never retrieved", other))
  assert drop.filter(record(f"something else about {read_path}"))
  installed = logging.getLogger("asyncio").filters
  assert sum(isinstance(f, checkpointing._DropUnretrievedReads) for f in installed) == 1
