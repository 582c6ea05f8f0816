"""train.init_params_file: meta-training starts from saved meta-parameters (a warm start, e.g. from
a rule trained at a smaller N), with a fresh optimizer; a checkpoint in the workdir still wins."""

import jax
import numpy as np
import pytest

from learned_rules import experiment
from learned_rules.common.errors import ConfigError
from learned_rules.train import params_io, trainer, validation
from tests.train.helpers import tiny_config


def saved_params(config, workdir):
  model = experiment.build(config).model("learned")
  template = params_io.state_template(config, model).params
  return params_io.load_params(str(workdir / params_io.PARAMS_FILE), template)


def assert_same(a, b):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_warm_start_begins_from_the_file_and_then_trains(tmp_path):
  source = tiny_config(num_steps=3, checkpoint_every=100)
  trainer.train_and_evaluate(source, str(tmp_path / "source"))
  start = saved_params(source, tmp_path / "source")

  # Another seed, 0 steps: the saved meta-parameters are exactly the file's.
  warm = tiny_config(num_steps=0, init_params_file=str(tmp_path / "source" / params_io.PARAMS_FILE))
  with warm.unlocked():
    warm.seed = 7
    warm.task.pattern_bits = 12  # another size: the rule's parameters do not depend on N
  trainer.train_and_evaluate(warm, str(tmp_path / "zero"))
  assert_same(saved_params(warm, tmp_path / "zero"), start)

  # 2 steps from there move away from it; the same config from scratch starts elsewhere.
  with warm.unlocked():
    warm.train.num_steps = 2
  trainer.train_and_evaluate(warm, str(tmp_path / "two"))
  moved = saved_params(warm, tmp_path / "two")
  delta = sum(
    float(np.abs(np.asarray(a) - np.asarray(b)).sum())
    for a, b in zip(jax.tree.leaves(moved), jax.tree.leaves(start), strict=True)
  )
  assert 0.0 < delta
  with warm.unlocked():
    warm.train.init_params_file = ""
  scratch = params_io.state_template(warm, experiment.build(warm).model("learned")).params
  assert any(
    not np.array_equal(np.asarray(a), np.asarray(b))
    for a, b in zip(jax.tree.leaves(scratch), jax.tree.leaves(start), strict=True)
  )


def test_bad_warm_start_files_are_clear_errors(tmp_path):
  with pytest.raises(ConfigError, match="init_params_file.*no such file"):
    validation.validate_train(tiny_config(init_params_file=str(tmp_path / "missing.msgpack")).train)
  source = tiny_config(num_steps=1)
  trainer.train_and_evaluate(source, str(tmp_path / "source"))
  other = tiny_config(
    num_steps=1, init_params_file=str(tmp_path / "source" / params_io.PARAMS_FILE)
  )
  with other.unlocked():
    other.rule.hidden_size = 16  # another rule shape
  with pytest.raises(Exception, match="train.init_params_file.*(fit|shape)"):
    trainer.train_and_evaluate(other, str(tmp_path / "other"))
