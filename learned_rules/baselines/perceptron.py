"""Textbook one-layer learners of a map x -> y on ±1 vectors, in numpy, outside the engine.

They are the references the engine's rules are measured against on teacher episodes (the
`teacher_references` study): each learns a weight matrix J (D_out, D_in) from K stored pairs and
answers a key q with sign(J q), sign(0) = +1 as everywhere in this project.
- `hebb`: J = sum_k y_k x_k^T, the one-pass Hebb perceptron. On a perceptron teacher with
  Gaussian weights its accuracy on unseen keys is, for large D at a = K / D,
  1 - arccos(sqrt(2a / (2a + pi))) / pi (`hebb_accuracy`; Engel & Van den Broeck, *Statistical
  Mechanics of Learning*, 2001).
- `pseudo_inverse`: the minimum-norm least-squares J (J X^T = Y^T exactly while K <= D and the
  keys are independent).
- `delta`: one pass of the normalized delta (Widrow-Hoff) rule,
  J += lr (y_k - J x_k) x_k^T / |x_k|^2, in storage order.
`random_features` is a frozen random hidden layer tanh(W x), W ~ N(0, gain^2 / D_in), the start
of the engine's `delta_features` and `backprop` rules, for learners over hidden features.
Every function takes one episode (keys (K, D_in), answers (K, D_out)); `accuracy` scores answers.
"""

import numpy as np


def sign(x) -> np.ndarray:
  """±1 sign with sign(0) = +1."""
  return np.where(np.asarray(x) >= 0, 1.0, -1.0)


def hebb(keys, answers) -> np.ndarray:
  """J = sum_k y_k x_k^T, (D_out, D_in)."""
  return np.asarray(answers, np.float64).T @ np.asarray(keys, np.float64)


def pseudo_inverse(keys, answers) -> np.ndarray:
  """Minimum-norm least-squares J with J x_k ~ y_k, (D_out, D_in)."""
  keys = np.asarray(keys, np.float64)
  return np.asarray(answers, np.float64).T @ np.linalg.pinv(keys).T


def delta(keys, answers, learning_rate: float = 1.0) -> np.ndarray:
  """One pass of the normalized delta rule from J = 0, in the order the pairs are given."""
  keys, answers = np.asarray(keys, np.float64), np.asarray(answers, np.float64)
  weights = np.zeros((answers.shape[1], keys.shape[1]))
  for key, answer in zip(keys, answers, strict=True):
    norm = max(float(key @ key), 1e-12)
    weights += learning_rate * np.outer(answer - weights @ key, key) / norm
  return weights


LEARNERS = {"hebb": hebb, "pseudo_inverse": pseudo_inverse, "delta": delta}


def predict(weights, keys) -> np.ndarray:
  """sign(J q) for every key q (..., D_in) -> (..., D_out)."""
  return sign(np.asarray(keys, np.float64) @ np.asarray(weights).T)


def accuracy(predicted, answers) -> float:
  """Fraction of answer bits right."""
  return float(np.mean(np.asarray(predicted) == np.asarray(answers)))


def random_features(keys, width: int, gain: float, rng: np.random.Generator) -> tuple:
  """(features (..., width), W) of a frozen random layer tanh(W x), W ~ N(0, gain^2 / D_in)."""
  keys = np.asarray(keys, np.float64)
  weights = rng.normal(0.0, gain / np.sqrt(keys.shape[-1]), (width, keys.shape[-1]))
  return np.tanh(keys @ weights.T), weights


def textbook_episode(d: int, k: int, queries: int, rng: np.random.Generator) -> tuple:
  """(keys (K, D), answers, unseen-in-expectation query keys (Q, D), their answers) of a fresh
  Gaussian linear-threshold teacher y = sign(W x), W (D x D), on ±1 keys, drawn by numpy."""
  teacher = rng.normal(size=(d, d))
  keys = rng.choice([-1.0, 1.0], size=(k, d))
  asked = rng.choice([-1.0, 1.0], size=(queries, d))
  return keys, sign(keys @ teacher.T), asked, sign(asked @ teacher.T)


def hebb_accuracy(load: float) -> float:
  """Large-D accuracy of the Hebb perceptron on a Gaussian perceptron teacher at a = K / D."""
  return 1.0 - float(np.arccos(np.sqrt(2.0 * load / (2.0 * load + np.pi)))) / np.pi
