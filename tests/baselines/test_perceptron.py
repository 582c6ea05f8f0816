"""The numpy textbook learners: small cases worked by hand, the Hebb perceptron's closed form at
large D, and the engine's silent-cue Hebbian equal to the numpy Hebb perceptron bit for bit on the
teacher task's own episodes."""

import jax
import numpy as np
import pytest

from configs import teacher
from learned_rules import evaluation, experiment
from learned_rules.baselines import perceptron
from learned_rules.dynamics import run_batch
from learned_rules.tasks.base import model_inputs


def test_hebb_by_hand():
  keys = np.array([[1, 1, -1], [1, -1, 1]], float)
  answers = np.array([[1], [-1]], float)
  weights = perceptron.hebb(keys, answers)
  np.testing.assert_array_equal(weights, [[0, 2, -2]])
  # J q = 0 answers +1 (sign(0) = +1); J q = 4 answers +1; J q = -4 answers -1.
  queries = np.array([[1, 1, 1], [-1, 1, -1], [1, -1, 1]], float)
  np.testing.assert_array_equal(perceptron.predict(weights, queries), [[1], [1], [-1]])


def test_pseudo_inverse_and_delta_by_hand():
  keys = np.array([[1, 1, 1, 1], [1, -1, 1, -1]], float)  # orthogonal keys
  answers = np.array([[1], [-1]], float)
  # J = sum_k y_k x_k^T / |x|^2 = ([1, 1, 1, 1] - [1, -1, 1, -1]) / 4.
  want = [[0, 0.5, 0, 0.5]]
  np.testing.assert_allclose(perceptron.pseudo_inverse(keys, answers), want, atol=1e-12)
  np.testing.assert_allclose(perceptron.delta(keys, answers), want, atol=1e-12)
  # Overlapping keys (x1 . x2 = 1): the delta rule corrects what the first write left wrong
  # and partly overwrites it. x1: J = [1, 1, 1] / 3; x2: J x2 = 1/3, error -4/3,
  # J += -4/3 [1, 1, -1] / 3 -> [-1, -1, 7] / 9, so J x2 = -1 and J x1 = 5/9.
  keys = np.array([[1, 1, 1], [1, 1, -1]], float)
  answers = np.array([[1], [-1]], float)
  weights = perceptron.delta(keys, answers)
  np.testing.assert_allclose(weights, [[-1 / 9, -1 / 9, 7 / 9]], atol=1e-12)
  np.testing.assert_allclose(weights @ keys.T, [[5 / 9, -1]], atol=1e-12)
  # The pseudo-inverse meets both pairs exactly.
  np.testing.assert_allclose(
    perceptron.pseudo_inverse(keys, answers) @ keys.T, answers.T, atol=1e-12
  )
  # With more pairs than bits the pseudo-inverse is the least-squares fit.
  keys = np.array([[1.0], [1.0], [-1.0]])
  answers = np.array([[1.0], [1.0], [1.0]])
  np.testing.assert_allclose(perceptron.pseudo_inverse(keys, answers), [[1 / 3]])


def test_closed_form_values():
  assert perceptron.hebb_accuracy(0.0) == pytest.approx(0.5)
  assert perceptron.hebb_accuracy(1e9) == pytest.approx(1.0, abs=1e-4)
  # a = pi / 2: overlap sqrt(pi / 2pi) = cos(pi / 4), accuracy 3/4; a = pi / 6: overlap 1/2 =
  # cos(pi / 3), accuracy 2/3.
  assert perceptron.hebb_accuracy(np.pi / 2) == pytest.approx(0.75, abs=1e-12)
  assert perceptron.hebb_accuracy(np.pi / 6) == pytest.approx(2 / 3, abs=1e-12)


@pytest.mark.parametrize("load", [0.5, 2.0])
def test_hebb_perceptron_meets_its_closed_form_at_large_d(load):
  d, rng = 300, np.random.default_rng(0)
  right = []
  for _ in range(6):
    keys, answers, asked, truth = perceptron.textbook_episode(d, int(load * d), 100, rng)
    right.append(perceptron.predict(perceptron.hebb(keys, answers), asked) == truth)
  assert np.mean(right) == pytest.approx(perceptron.hebb_accuracy(load), abs=0.01)


def test_random_features_have_the_start_scale():
  features, weights = perceptron.random_features(
    np.ones((3, 400)), 2000, 1.0, np.random.default_rng(1)
  )
  assert features.shape == (3, 2000)
  assert np.std(weights) == pytest.approx(1 / np.sqrt(400), rel=0.02)


def test_engine_silent_cue_hebbian_is_the_hebb_perceptron_on_the_same_episodes():
  """hebbian_cued with free_weight 0 reads the answer from the cue alone: sign(sum y x^T q)."""
  config = teacher.get_config()
  with config.unlocked():
    config.task.pattern_bits = 8
    config.task.k_min = config.task.k_max = 5
    config.rule.free_weight = 0.0
    config.eval.baselines = ()
  exp = experiment.build(config)
  task, model = exp.task, exp.model("hebbian_cued")
  params = model.init_params(jax.random.PRNGKey(0))
  key = evaluation.batch_keys(3, 16, 16)[0]
  batch = evaluation.sample_episodes(task, key, 16, 5)
  logits = np.asarray(run_batch(model, params, key, model_inputs(task, model, batch), remat=False))
  batch = jax.device_get(batch)
  last = np.nonzero(np.asarray(batch.eval_mask[0]) > 0)[0]  # the last step of each query
  items = np.asarray(batch.query_item[0])[last]
  d = config.task.pattern_bits
  for i in range(16):
    weights = perceptron.hebb(batch.stored_keys[i], batch.stored_answers[i])
    want = perceptron.predict(weights, batch.query_keys[i][items])
    np.testing.assert_array_equal(np.sign(logits[i][last][:, d:]), want)
