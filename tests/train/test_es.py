"""Evolution strategies (train.estimator='es'): a tiny run improves, one generation is checked
against an independent construction, and a stopped run resumes exactly."""

import json
import subprocess
import sys

import flax.serialization
import jax
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from learned_rules import experiment
from learned_rules.common.errors import ConfigError
from learned_rules.train import es, meta, params_io, trainer, validation
from tests.train.helpers import ROOT, subprocess_env, tiny_config


def es_config(**train):
  config = tiny_config(estimator="es", **train)
  with config.unlocked():
    config.train.es.population_size = 16
    config.train.es.sigma = 0.02
    config.train.es.learning_rate = 0.01
  return config


def heldout_loss(config, num_episodes=512):
  """params -> the meta-loss (BPTT's loss function) on one fixed batch of fresh episodes."""
  exp = experiment.build(config)
  held_out = config.copy_and_resolve_references()
  with held_out.unlocked():
    held_out.train.batch_size = num_episodes
  loss_fn = jax.jit(meta.make_loss_fn(exp.model(config.rule.name), exp.task, held_out))
  return lambda params: float(loss_fn(params, jax.random.PRNGKey(12345))[0])


def test_a_few_generations_lower_the_heldout_loss_and_log_finite_fitness(tmp_path):
  # Improvement is asserted, not just a run: in 30 generations (population 16, 16 episodes each)
  # the held-out loss fell by about 0.1 (0.71 -> 0.59, 0.68 -> 0.57, 0.67 -> 0.58 for seeds 0-2)
  # when this test was written; the bar is a third of that. The per-generation fitness itself is
  # too noisy to compare (fresh episodes every generation), so it is only required finite.
  config = es_config(num_steps=30, batch_size=16, log_every=5, checkpoint_every=30)
  result = trainer.meta_train(config, str(tmp_path))
  assert result.stopped == "num_steps" and result.steps_done == 30

  exp = experiment.build(config)
  model = exp.model("learned")
  initial = es.init_state(model, config).params
  trained = flax.serialization.from_bytes(initial, (tmp_path / params_io.PARAMS_FILE).read_bytes())
  pairs = zip(jax.tree.leaves(initial), jax.tree.leaves(trained), strict=True)
  changed = [not np.array_equal(a, b) for a, b in pairs]
  assert all(changed)  # every leaf moved: the search distribution's mean is what is saved
  loss = heldout_loss(config)
  before, after = loss(initial), loss(trained)
  assert after < before - 0.03, (before, after)

  records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
  train_records = [r for r in records if "train/fitness_mean" in r]
  assert [r["step"] for r in train_records] == [5, 10, 15, 20, 25, 30]
  for record in train_records:
    for key in ("loss", "fitness_mean", "fitness_best", "hidden_bit_accuracy", "update_norm"):
      assert np.isfinite(record[f"train/{key}"]), (key, record)
    assert record["train/fitness_best"] >= record["train/fitness_mean"]
    assert record["train/sigma"] == pytest.approx(0.02)


def test_one_generation_scores_every_member_on_the_same_episodes_and_descends():
  config = es_config(batch_size=4)
  exp = experiment.build(config)
  model = exp.model("learned")
  state = es.init_state(model, config)
  strategy = es.make_strategy(config.train.es, state.params)
  generation = jax.jit(es.make_generation_body(model, exp.task, config, strategy))
  new_state, metrics = generation(jax.tree.map(np.array, state))

  # The same keys the generation derives, then every member scored one by one with BPTT's loss.
  key_ask, key_data, _ = jax.random.split(jax.random.fold_in(state.rng, 0), 3)
  population, _ = strategy.ask(key_ask, state.strategy, strategy.default_params)
  loss_fn = jax.jit(meta.make_loss_fn(model, exp.task, config))
  size = config.train.es.population_size
  members = [jax.tree.map(lambda x, i=i: x[i], population) for i in range(size)]
  losses = np.array([float(loss_fn(member, key_data)[0]) for member in members])
  mean_loss, mean_metrics = loss_fn(state.params, key_data)

  np.testing.assert_allclose(float(metrics["loss"]), float(mean_loss), rtol=1e-5)
  np.testing.assert_allclose(
    float(metrics["hidden_bit_accuracy"]), float(mean_metrics["hidden_bit_accuracy"])
  )
  np.testing.assert_allclose(float(metrics["fitness_mean"]), -losses.mean(), rtol=1e-5)
  np.testing.assert_allclose(float(metrics["fitness_best"]), -losses.min(), rtol=1e-5)

  # Antithetic pairs around the mean, with the configured sigma.
  flat = np.stack([ravel_pytree(m)[0] for m in members])
  mean = np.asarray(state.strategy.mean)
  pairs_sum = flat[: size // 2] + flat[size // 2 :]
  np.testing.assert_allclose(pairs_sum, np.broadcast_to(2 * mean, pairs_sum.shape), atol=1e-5)
  noise = (flat - mean) / config.train.es.sigma
  assert 0.9 < noise.std() < 1.1

  # The update descends the loss: OpenAI-ES's estimate from centered ranks (worst member +0.5),
  # then Adam's first step, which is -learning_rate x sign(estimate) where it is not tiny.
  ranks = np.argsort(np.argsort(losses)) / (size - 1) - 0.5
  estimate = ranks @ noise / (size * config.train.es.sigma)
  update = np.asarray(new_state.strategy.mean) - mean
  big = np.abs(estimate) > 1e-3
  assert big.mean() > 0.9
  np.testing.assert_allclose(
    update[big], -config.train.es.learning_rate * np.sign(estimate[big]), rtol=1e-3
  )
  new_flat = ravel_pytree(new_state.params)[0]
  np.testing.assert_array_equal(np.asarray(new_flat), np.asarray(new_state.strategy.mean))
  assert int(new_state.step) == 1


def test_stopped_then_resumed_equals_an_uninterrupted_run(tmp_path):
  # In process (a SIGKILL test like test_train_resume.py would cost three compiles in
  # subprocesses): the ES state (mean, Adam moments, best-so-far, generation) and the data-stream
  # position come back from the checkpoint, so the resumed run is bit-identical.
  reference = trainer.meta_train(es_config(num_steps=6, checkpoint_every=2), str(tmp_path / "a"))
  resumed_dir = str(tmp_path / "b")
  first = trainer.meta_train(es_config(num_steps=3, checkpoint_every=2), resumed_dir)
  assert first.steps_done == 3
  second = trainer.meta_train(es_config(num_steps=6, checkpoint_every=2), resumed_dir)
  assert second.steps_done == 6 and reference.steps_done == 6
  a = (tmp_path / "a" / params_io.PARAMS_FILE).read_bytes()
  b = (tmp_path / "b" / params_io.PARAMS_FILE).read_bytes()
  assert a == b
  assert [h["loss"] for h in reference.history] == [h["loss"] for h in second.history]
  assert [h["step"] for h in second.history] == [1, 2, 3, 4, 5, 6]

  # mode=eval reads the ES checkpoint's mean.
  config = es_config(num_steps=6)
  with config.unlocked():
    config.mode = "eval"
  report = trainer.evaluate_checkpoint(config, resumed_dir)
  assert report["checkpoint_step"] == 6
  assert 0.0 <= report["rules"]["learned"]["hidden_bit_accuracy"] <= 1.0


def test_two_devices_match_one_device():
  # Each device scores every member on its half of the batch and the halves' mean losses are
  # averaged, so the ranks, and with them the update, match one device up to float rounding.
  result = subprocess.run(
    [sys.executable, "-m", "tests.train.parallel_check", "es"],
    cwd=ROOT,
    env=subprocess_env(XLA_FLAGS="--xla_force_host_platform_device_count=2"),
    capture_output=True,
    text=True,
    timeout=300,
  )
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads(result.stdout.strip().splitlines()[-1])
  assert report["step"] == 3 and report["replicas_agree"]
  assert report["max_param_diff"] <= 1e-6, report
  for a, b in zip(report["losses_one"], report["losses_two"], strict=True):
    assert abs(a - b) <= 1e-5 * max(1.0, abs(a)), report


@pytest.mark.parametrize(
  "key,value,match",
  [
    ("estimator", "sgd", "train.estimator"),
    ("es.population_size", 7, "train.es.population_size"),
    ("es.population_size", 0, "train.es.population_size"),
    ("es.sigma", 0.0, "train.es.sigma"),
    ("es.learning_rate", -1.0, "train.es.learning_rate"),
    ("curriculum_threshold", 0.5, "train.curriculum_threshold"),
    ("unroll_window", 4, "train.unroll_window"),
  ],
)
def test_bad_es_settings_are_config_errors(key, value, match):
  config = es_config()
  with config.unlocked():
    block, _, name = key.rpartition(".")
    (config.train[block] if block else config.train)[name] = value
  with pytest.raises(ConfigError, match=match):
    validation.validate_train(config.train)
