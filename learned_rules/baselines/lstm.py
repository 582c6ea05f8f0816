"""An LSTM that reads the task's flat input stream each step and predicts every visible bit.

It has the two methods the meta-trainer needs (`init_params`, `run_episode`), so it is trained by
the same loss and step functions on the same episodes as the rules. No weight changes within an
episode: its memory is the (c, h) carry, 2 * hidden_size floats.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp


class _Core(nn.Module):
  hidden_size: int
  num_visible: int

  @nn.compact
  def __call__(self, carry, x):
    carry, y = nn.OptimizedLSTMCell(self.hidden_size, name="cell")(carry, x)
    return carry, nn.Dense(self.num_visible, name="readout")(y)


class LSTMModel:
  """Static structure only; all functions pure, like `dynamics.Network`."""

  def __init__(self, input_size: int, num_visible: int, hidden_size: int):
    self.input_size = input_size  # features per step (remember: the visible bits and store flag)
    self.num_visible = num_visible
    self.hidden_size = hidden_size
    self._core = _Core(hidden_size, num_visible)

  @property
  def num_state_floats(self) -> int:
    return 2 * self.hidden_size

  def _zero_carry(self):
    zeros = jnp.zeros((self.hidden_size,))
    return (zeros, zeros)

  def init_params(self, rng):
    x = jnp.zeros((self.input_size,))
    return self._core.init(rng, self._zero_carry(), x)["params"]

  def run_episode(self, params, rng, inputs, remat: bool = True):
    """Inputs (T, F) -> (logits (T, V), final carry). `rng` is unused."""
    del rng
    xs = inputs

    def body(carry, x):
      return self._core.apply({"params": params}, carry, x)

    if remat:
      body = jax.checkpoint(body)
    final, logits = jax.lax.scan(body, self._zero_carry(), xs)
    return logits, final


def num_params(num_visible: int, hidden_size: int) -> int:
  """Meta-parameters of LSTMModel: 4 gates over [x, h] with biases, plus the readout."""
  inputs = num_visible + 1
  return 4 * (inputs * hidden_size + hidden_size * hidden_size + hidden_size) + (
    hidden_size * num_visible + num_visible
  )


def lstm_size_for_params(num_visible: int, target_params: int) -> int:
  """Smallest hidden size whose parameter count reaches `target_params`."""
  size = 1
  while num_params(num_visible, size) < target_params:
    size += 1
  return size


def lstm_size_for_state(target_state_floats: int) -> int:
  """Hidden size with 2 * size >= target_state_floats (matched memory)."""
  return max(1, math.ceil(target_state_floats / 2))
