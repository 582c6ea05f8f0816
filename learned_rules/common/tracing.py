"""A per-object trace counter: a jitted step traced twice is a bug (its shapes changed)."""

import functools

import jax


def trace_guard(fn, max_traces: int = 1):
  """Raises AssertionError when this function object is traced more than `max_traces` times.

  Like `chex.assert_max_traces`, but counted per wrapped object, so a second run in the same
  process (a notebook cell run again, a test) starts from zero while a retrace within one run
  still raises.
  """
  traces = [0]

  @functools.wraps(fn)
  def guarded(*args, **kwargs):
    if any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves((args, kwargs))):
      traces[0] += 1
      if traces[0] > max_traces:
        raise AssertionError(
          f"{fn.__name__} traced {traces[0]} times (at most {max_traces} expected): the "
          "state's shapes, dtypes or placement changed between steps; a retrace is a bug."
        )
    return fn(*args, **kwargs)

  return guarded
