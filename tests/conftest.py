"""Shared fixtures: tiny configs that compile and run in seconds on a CPU."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def _share_compilations() -> None:
  """One persistent XLA compilation cache for this test session, fresh each session.

  Many tests compile the same tiny programs, in this process, in xdist workers (which inherit
  the environment of the process that loaded this file first) and in `experiments.main`
  subprocesses; sharing the compiled programs saves about a quarter of the suite's time. The
  cache is keyed by the program and the compile options, so results do not change. A cache dir
  set by the caller (JAX_COMPILATION_CACHE_DIR) is used as it is.
  """
  if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    return
  import atexit
  import shutil
  import tempfile

  directory = tempfile.mkdtemp(prefix="learned_rules_test_xla_cache_")
  os.environ["JAX_COMPILATION_CACHE_DIR"] = directory
  atexit.register(shutil.rmtree, directory, ignore_errors=True)


_share_compilations()


def _compile_fast() -> None:
  """Compile the suite's programs at XLA's lowest CPU backend optimization level.

  The tests run tiny networks for a few steps, so nearly all their time is compilation; level 0
  halves the suite's CPU time (user time of three test files: 185 s -> 90 s). It changes how fast
  the compiled code runs, not what it computes, and no test times anything. Flags the caller put
  in XLA_FLAGS are kept; a caller's own optimization level wins. Benchmarks and experiments do
  not read this file and compile at the default level.
  """
  flags = os.environ.get("XLA_FLAGS", "")
  if "xla_backend_optimization_level" not in flags:
    os.environ["XLA_FLAGS"] = (flags + " --xla_backend_optimization_level=0").strip()
  # Cache every compilation, not only those over a second: the tiny programs recur across tests.
  os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")


_compile_fast()


def tiny_remember_config():
  from configs import remember

  config = remember.get_config()
  with config.unlocked():
    config.task.pattern_bits = 8
    config.task.k_min = 1
    config.task.k_max = 2
    config.rule.neuron_state_size = 4
    config.rule.synapse_state_size = 2
    config.rule.message_size = 4
    config.rule.hidden_size = 8
    config.train.num_steps = 3
    config.train.batch_size = 4
    config.train.log_every = 1
    config.eval.num_episodes = 8
    config.eval.batch_size = 4
  return config


def external_inputs(inputs, store_flags, topology):
  """(T, N, 2) external channels from raw (T, V) visible inputs and (T,) store flags."""
  import jax.numpy as jnp

  steps, n = inputs.shape[0], topology.num_neurons
  values = jnp.zeros((steps, n)).at[:, topology.input_index].set(inputs)
  flags = jnp.broadcast_to(jnp.asarray(store_flags, jnp.float32)[:, None], (steps, n))
  return jnp.stack([values, flags], axis=-1)


@pytest.fixture
def tiny_config():
  return tiny_remember_config()
