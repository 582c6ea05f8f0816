r"""A textbook numpy Hopfield net next to the engine's Hebbian rules on identical patterns and cues.

  nice -n 5 python -m experiments.hopfield_reference --machine="2-core CPU, shared"

The reference is the classical recipe: W = sum_k xi_k xi_k^T / N with a zero diagonal; recall
starts from the cue with its hidden bits at 0 and runs synchronous s <- sign(W s) on every neuron
(nothing clamped) until a fixed point or `max_iterations`. A second numpy run holds the cue's
visible bits at their values every iteration (clamped), the only change. Both read their patterns
and cues from the remember task's episodes (`RememberTask` via `experiment.build`, K = k_min =
k_max patterns of N bits, hidden_fraction c), batch by batch, and the engine's `hebbian_cued` and
`hebbian` run on the very same episode objects; every answer is scored by the task's own
`recall_counts`, so the numbers differ only by protocol:

- the engine clamps the cue's visible bits (numpy free does not);
- the engine's recall is `recall_steps` synchronous steps (P_r = 3) right after the previous
  item's recall (or the delay), and a step's messages come from the previous step's states: the
  first step of a cue still sees the previous item's states, so P_r - 1 updates see the cue;
- `hebbian_cued` scales the messages of unclamped neurons by rule.free_weight (0.25), where numpy
  weighs every neuron alike, and its hidden bits start from the previous item's recall, not 0.
"""

import json
import os
import platform
import shlex
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from configs import remember
from learned_rules import experiment
from learned_rules.dynamics import run_batch
from learned_rules.evaluation import summed_counts
from learned_rules.sweeps import grid, runner
from learned_rules.tasks.base import model_inputs

KIND = "hopfield_reference"  # the records' `kind`: the results report reads them apart
SIZES = (32, 64, 128)  # N: neurons = visible bits
LOADS = (0.1, 0.125, 0.15, 0.2, 0.25)  # alpha: K = round(alpha N)
ENGINE_RULES = ("hebbian_cued", "hebbian")  # run through the engine on the same episodes
NUMPY_PROTOCOLS = ("numpy_free", "numpy_clamped")  # clamp the cue's visible bits or not
SEED = runner.EVAL_SEED  # the sweeps' evaluation seed: the same episode stream
REPORTED = ("hidden_bit_accuracy", "bit_accuracy", "perfect_recall_fraction")


def sign(x):
  """±1 sign with sign(0) = +1, as the engine's rules."""
  return np.where(x >= 0, 1.0, -1.0)


def hopfield_weights(patterns) -> np.ndarray:
  """W = sum_k xi_k xi_k^T / N, zero diagonal, from (..., K, N) ±1 patterns: (..., N, N)."""
  patterns = np.asarray(patterns, np.float64)
  n = patterns.shape[-1]
  weights = np.einsum("...ki,...kj->...ij", patterns, patterns) / n
  diagonal = np.arange(n)
  weights[..., diagonal, diagonal] = 0.0
  return weights


def hopfield_recall(weights, cues, clamp: bool = False, max_iterations: int = 50):
  """Synchronous sign recall from (..., M, N) cues in {-1, 0, +1} (0 = hidden bit).

  `weights` is (..., N, N) (one matrix per leading index, shared by its M cues). Every neuron
  updates at once, s <- sign(W s), starting from the cue; with `clamp` the cue's nonzero bits are
  held. Stops when every state is a fixed point or after `max_iterations` updates. Returns the
  final states (..., M, N) and whether each is a fixed point (..., M).
  """
  cues = np.asarray(cues, np.float64)
  weights = np.asarray(weights, np.float64)
  visible = cues != 0
  states = cues
  fixed = np.zeros(cues.shape[:-1], bool)
  for _ in range(max_iterations):
    new = sign(states @ np.swapaxes(weights, -1, -2))  # (W s) for every cue
    if clamp:
      new = np.where(visible, cues, new)
    fixed = np.all(new == states, axis=-1)
    states = new
    if fixed.all():
      break
  return states, fixed


def point_config(size: int, k: int, hidden_fraction: float = 0.5):
  """The default remember config with N = D = `size` bits and exactly `k` patterns per episode."""
  config = remember.get_config()
  config.task.pattern_bits = size
  config.task.k_min = config.task.k_max = k
  config.task.hidden_fraction = hidden_fraction
  config.eval.k = k
  return config


def numpy_logits(episodes, clamp: bool, max_iterations: int):
  """(B, T, V) ±1 answers of the numpy net at every cue's read-out step (0 elsewhere).

  Patterns: the episodes' stored patterns (every slot is active: K = k_max). Cue: the input at
  the item's read-out step (its visible bits, hidden ones 0). Also returns how many read-outs
  ended on a fixed point, and how many read-outs there were.
  """
  inputs = np.asarray(episodes.inputs)  # (B, T, V)
  readout = np.asarray(episodes.eval_mask) > 0  # (B, T): the same K steps in every episode
  steps = np.stack([np.nonzero(row)[0] for row in readout])  # (B, K)
  batch = np.arange(inputs.shape[0])[:, None]
  weights = hopfield_weights(np.asarray(episodes.patterns)[:, :, 0])  # (B, V, V)
  states, fixed = hopfield_recall(weights, inputs[batch, steps], clamp, max_iterations)
  logits = np.zeros(inputs.shape)
  logits[batch, steps] = states
  return logits, int(fixed.sum()), int(fixed.size)


def evaluate_point(
  size: int,
  load: float,
  num_episodes: int = 128,
  batch_size: int = 64,
  hidden_fraction: float = 0.5,
  max_iterations: int = 50,
  seed: int = SEED,
) -> dict:
  """numpy free, numpy clamped, the engine's rules and the oracle on the same episodes."""
  k = grid.num_for_load(size, load)
  config = point_config(size, k, hidden_fraction)
  exp = experiment.build(config)
  task = exp.task
  models = {name: exp.model(name) for name in ENGINE_RULES}
  params = {name: model.init_params(jax.random.PRNGKey(0)) for name, model in models.items()}

  @jax.jit
  def engine_batch(rng):
    # The batch loop of evaluation.evaluate, so the engine's numbers equal evaluate(...) at seed.
    key_task, key_synapses = jax.random.split(rng)
    episodes = task.sample_batch(key_task, batch_size, k, k)
    counts = {
      "oracle": summed_counts(task, jax.vmap(task.oracle)(episodes), episodes),
    }
    for name, model in models.items():
      inputs = model_inputs(task, model, episodes)
      logits = run_batch(model, params[name], key_synapses, inputs, remat=False)
      counts[name] = summed_counts(task, logits, episodes)
    return episodes, counts

  score = jax.jit(lambda logits, episodes: summed_counts(task, logits, episodes))
  start = time.time()
  totals, fixed_points, readouts = None, dict.fromkeys(NUMPY_PROTOCOLS, 0), 0
  base = jax.random.PRNGKey(seed)
  num_batches = -(-num_episodes // batch_size)
  for index in range(num_batches):
    episodes, counts = engine_batch(jax.random.fold_in(base, index))
    for protocol in NUMPY_PROTOCOLS:
      logits, fixed, cues = numpy_logits(episodes, protocol == "numpy_clamped", max_iterations)
      counts[protocol] = score(jnp.asarray(logits, jnp.float32), episodes)
      fixed_points[protocol] += fixed
    readouts += cues  # the same read-outs for both protocols
    totals = counts if totals is None else jax.tree.map(jnp.add, totals, counts)
  results = {}
  for name, counts in totals.items():
    summary = task.summarize(counts, exp.topology.num_synapses, 0)
    results[name] = {key: summary[key] for key in REPORTED}
  for protocol in NUMPY_PROTOCOLS:
    results[protocol]["fixed_point_fraction"] = fixed_points[protocol] / max(readouts, 1)
  cfg = config.task
  return {
    "kind": KIND,
    "key": grid.point_key({"size": size, "load": load, "hidden_fraction": hidden_fraction}),
    "size": size,
    "load": load,
    "k": k,
    "hidden_fraction": hidden_fraction,
    "episodes": num_batches * batch_size,
    "batch_size": batch_size,
    "seed": seed,
    "max_iterations": max_iterations,
    "store_steps": cfg.store_steps,
    "gap_steps": cfg.gap_steps,
    "delay_steps": cfg.delay_steps,
    "recall_steps": cfg.recall_steps,
    "free_weight": config.rule.free_weight,
    "recall": results,
    "wall_s": time.time() - start,
  }


def read_keys(path: str) -> set:
  """Keys of the records already in `path` (a line cut short by a kill is ignored)."""
  keys = set()
  if os.path.exists(path):
    with open(path) as f:
      for line in f:
        try:
          keys.add(json.loads(line)["key"])
        except (ValueError, KeyError, TypeError):
          continue
  return keys


def run(
  output: str,
  sizes=SIZES,
  loads=LOADS,
  hidden_fraction: float = 0.5,
  machine: str = "",
  log=print,
  **point_options,
) -> list[dict]:
  """Evaluates every (N, alpha) point not yet in `output`, appending one JSON line per point."""
  os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
  done = read_keys(output)
  machine = machine or f"{os.cpu_count()}-core CPU ({platform.machine()})"
  command = shlex.join(["python", "-m", "experiments.hopfield_reference", *sys.argv[1:]])
  written = []
  for size in sizes:
    for load in loads:
      key = grid.point_key({"size": size, "load": load, "hidden_fraction": hidden_fraction})
      if key in done:
        continue
      record = evaluate_point(size, load, hidden_fraction=hidden_fraction, **point_options)
      record |= {"machine": machine, "command": command}
      with open(output, "a") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
      written.append(record)
      recall = record["recall"]
      log(
        f"N={size} alpha={load} K={record['k']}: hidden-bit accuracy numpy free "
        f"{recall['numpy_free']['hidden_bit_accuracy']:.4f}, numpy clamped "
        f"{recall['numpy_clamped']['hidden_bit_accuracy']:.4f}, engine hebbian_cued "
        f"{recall['hebbian_cued']['hidden_bit_accuracy']:.4f} ({record['wall_s']:.1f} s)"
      )
  return written
