"""Truncated BPTT: an episode run in windows, the network state carried with stop_gradient.

The batch's episodes are cut into windows of `window` steps (the last one padded with blank,
loss-free steps). Window w starts from the state window w-1 ended in, passed through
`stop_gradient`, and its gradient is taken on its own (inside a `lax.scan` over windows, so the
backward pass only ever holds one window). The gradients of all windows are summed into one
meta-update per batch (accumulated, not one update per window).

What is differentiated: every path from the meta-parameters to the loss inside a window,
including the synapse-state sample of the episode start (first window only). What is not: the
effect of a window's parameters on the state it hands to the next window. With a window at
least as long as the episode this is exactly full BPTT.
"""

import jax
import jax.numpy as jnp


def num_windows(length: int, window: int) -> int:
  return -(-length // window)


def _windows(x, count: int, window: int):
  """(B, T, ...) -> (count, B, window, ...), zero-padded at the end of time."""
  pad = count * window - x.shape[1]
  x = jnp.pad(x, [(0, 0), (0, pad)] + [(0, 0)] * (x.ndim - 2))
  x = x.reshape((x.shape[0], count, window) + x.shape[2:])
  return jnp.swapaxes(x, 0, 1)


def value_and_grad(network, task, params, synapse_keys, inputs, episodes, window: int, remat=True):
  """((mean task loss, logits (B, T, V)), summed truncated gradient) for a batch of episodes.

  `inputs` (B, T, N, C) is the batch's external input. The loss is the task's, averaged over
  episodes: each window adds `task.loss_sum` of its steps divided by the episode's whole
  `task.loss_count`, so the windows' losses sum to the full-episode loss (padded steps carry a
  zero supervision, which every task's loss_sum must score as zero).
  """
  length = inputs.shape[1]
  count = num_windows(length, window)
  denominator = jax.vmap(task.loss_count)(episodes)  # (B,)
  supervision = jax.vmap(task.supervision)(episodes)
  xs = (
    jnp.arange(count),
    _windows(inputs, count, window),
    jax.tree.map(lambda x: _windows(x, count, window), supervision),
  )

  def fresh_state(p):
    return jax.vmap(network.init_state, (None, 0))(p, synapse_keys)

  def window_loss(p, carried, index, window_inputs, window_supervision):
    # The episode's first window starts from the (differentiable) fresh synapse sample.
    fresh = fresh_state(p)
    start = jax.tree.map(lambda f, c: jnp.where(index == 0, f, c), fresh, carried)
    run = lambda s, x: network.run(p, s, x, remat)
    final, logits = jax.vmap(run)(start, window_inputs)
    sums = jax.vmap(task.loss_sum)(logits, window_supervision)
    return jnp.mean(sums / denominator), (final, logits)

  def body(carry, x):
    state, grads_sum, loss_sum = carry
    state = jax.lax.stop_gradient(state)  # the window boundary: no gradient flows back past it
    (loss, (final, logits)), grads = jax.value_and_grad(window_loss, has_aux=True)(
      params, state, *x
    )
    grads_sum = jax.tree.map(jnp.add, grads_sum, grads)
    return (final, grads_sum, loss_sum + loss), logits

  initial = jax.tree.map(jnp.zeros_like, jax.lax.stop_gradient(fresh_state(params)))
  zeros = jax.tree.map(jnp.zeros_like, params)
  (_, grads, loss), logits = jax.lax.scan(body, (initial, zeros, jnp.zeros(())), xs)
  logits = jnp.swapaxes(logits, 0, 1)  # (B, count, window, V)
  logits = logits.reshape((logits.shape[0], count * window) + logits.shape[3:])[:, :length]
  return (loss, logits), grads


def stop_gradient_loss(network, task, params, synapse_keys, inputs, episodes, window, remat=True):
  """Reference: the summed window losses as one function whose gradient is the truncated one."""
  length = inputs.shape[1]
  state = jax.vmap(network.init_state, (None, 0))(params, synapse_keys)
  denominator = jax.vmap(task.loss_count)(episodes)
  supervision = jax.vmap(task.supervision)(episodes)
  total = 0.0
  for start in range(0, length, window):
    stop = min(start + window, length)
    if start > 0:
      state = jax.lax.stop_gradient(state)
    run = lambda s, x: network.run(params, s, x, remat)
    state, logits = jax.vmap(run)(state, inputs[:, start:stop])
    part = jax.tree.map(lambda x, a=start, b=stop: x[:, a:b], supervision)
    total = total + jnp.mean(jax.vmap(task.loss_sum)(logits, part) / denominator)
  return total
