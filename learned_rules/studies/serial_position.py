"""Recall by storage position: which of the K stored patterns a rule loses.

A rule's K* at one N says how much it holds, not how it fails. Recall accuracy against the
position a pattern was stored at (0 = first stored, the oldest; K - 1 = the last, just before
recall) tells the two textbook failures apart:
- a palimpsest (a rule that forgets at a fixed rate: weight decay, a bounded synapse) loses the
  oldest patterns first and keeps the recent ones, however large N is, so its capacity stops
  near the number of patterns its forgetting time spans;
- a rule whose crosstalk grows with K (Hebbian, Storkey past capacity) loses every position
  about alike;
- a rule whose writes fade as the episode goes on (a write gain tied to time or to the number of
  patterns seen) loses the newest patterns, however large N is.

Our design: auto mode, K patterns in K slots (no blank slots), fully connected, the same
episodes for every rule (one seed per (N, K)). The storage position of each recalled pattern is
found by matching the recall target against the stored patterns (random ±1 patterns of N >= 16
bits: two equal patterns in one episode have probability below K^2 2^-N). Hidden-bit accuracy
per position, summed over episodes.

Records (results/serial_position.jsonl): kind 'serial_position', one per (rule, N, K);
`markdown` and `plot` read them back.
"""

import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from learned_rules import evaluation
from learned_rules.common import records as records_io
from learned_rules.common.errors import ConfigError
from learned_rules.dynamics import run_batch
from learned_rules.studies import anatomy, style
from learned_rules.studies.base import Study
from learned_rules.tasks.base import model_inputs

KIND = "serial_position"
SEED = 20261127  # the evaluation episodes' seed (the same for every rule at a given N, K)


def position_counts(logits, episode, k: int) -> tuple[jax.Array, jax.Array]:
  """(hidden bits correct, hidden bits scored), each (k,), by the recalled pattern's storage
  position, for one episode of K = k patterns in k slots (auto mode)."""
  targets_pm = 2.0 * episode.targets - 1.0  # (T, V)
  stored = episode.patterns[:, 0, :]  # (k, V): slot s holds pattern s
  position = jnp.argmax(targets_pm @ stored.T, axis=-1)  # (T,) exact match scores V, others < V
  correct = ((logits > 0).astype(jnp.float32) == episode.targets).astype(jnp.float32)
  hidden = episode.hidden_mask * episode.eval_mask[:, None]  # (T, V)
  onehot = jax.nn.one_hot(position, k)  # (T, k)
  return onehot.T @ jnp.sum(hidden * correct, axis=-1), onehot.T @ jnp.sum(hidden, axis=-1)


def measure(model, params, task, k: int, seed: int, num_episodes: int, batch_size: int) -> dict:
  """Hidden-bit accuracy per storage position (list of k) and overall, over fixed episodes."""

  @jax.jit
  def batch_counts(rng):
    key_task, key_synapses = jax.random.split(rng)
    episodes = task.sample_batch(key_task, batch_size, k, k)
    logits = run_batch(model, params, key_synapses, model_inputs(task, model, episodes), False)
    correct, total = jax.vmap(position_counts, (0, 0, None))(logits, episodes, k)
    return {"correct": correct.sum(0), "total": total.sum(0)}

  counts = evaluation.accumulate(batch_counts, seed, num_episodes, batch_size)
  correct, total = np.asarray(counts["correct"]), np.asarray(counts["total"])
  return {
    "accuracy_by_position": (correct / np.maximum(total, 1.0)).tolist(),
    "hidden_bits_by_position": total.tolist(),
    "hidden_bit_accuracy": float(correct.sum() / max(total.sum(), 1.0)),
  }


def parse_points(points) -> list[tuple[int, int]]:
  """('256:40', '64:24') -> [(256, 40), (64, 24)]; ConfigError names a bad entry."""
  out = []
  for point in points:
    n, sep, k = str(point).partition(":")
    if not sep or not n.strip().isdigit() or not k.strip().isdigit():
      raise ConfigError(f"points: {point!r} is not N:K (neurons:patterns, e.g. 256:40).")
    out.append((int(n), int(k)))
  return out


def validate(config) -> None:
  for n, k in parse_points(config.points):
    for rule in config.rules:
      anatomy.rule_setup(rule, n, k, config.bases)


def run(config) -> list:
  """Measures every rule at every (N, K) of `config.points`; replaces earlier records of the
  same (rule, N, K) and returns every record."""
  out, episodes = [], config.episodes
  for rule in config.rules:
    for n, k in parse_points(config.points):
      start = time.time()
      label, _, exp, model, params = anatomy.rule_setup(rule, n, k, config.bases)
      batch = min(64, episodes)
      result = measure(model, params, exp.task, k, SEED + 1000 * n + k, episodes, batch)
      out.append(
        {"kind": KIND, "rule": label, "n": n, "k": k, "episodes": -(-episodes // batch) * batch}
        | result
        | {"wall_s": time.time() - start, "machine": records_io.machine_description(config.machine)}
      )
      print(f"{label:<18} N={n:<4} K={k:<4} {result['hidden_bit_accuracy']:.4f}", flush=True)
  same = lambda old, new: (old["rule"], old["n"], old["k"]) == (new["rule"], new["n"], new["k"])
  records_io.replace(config.records, out, same)
  return read_records(config.records)


def read_records(path: str) -> list:
  return records_io.read(path, KIND)


def thirds(record: dict) -> tuple[float, float, float]:
  """Mean accuracy over the oldest, middle and newest third of the storage positions."""
  acc = np.asarray(record["accuracy_by_position"])
  parts = np.array_split(acc, 3)
  return tuple(float(p.mean()) if p.size else float("nan") for p in parts)


def markdown(records: list, plot_path: str = "") -> str:
  if not records:
    return ""
  lines = [
    "## Recall by storage position",
    "",
    "Hidden-bit accuracy against the position a pattern was stored at (`python -m "
    "experiments.study --config=configs/studies/serial_position.py`; K patterns in K slots, "
    "fully connected, the same episodes for every rule at a given N and K). Oldest / middle / "
    "newest: the mean over the first, "
    "middle and last third of the positions. A rule that forgets at a fixed rate loses the "
    "oldest patterns first; one limited by crosstalk loses every position alike; one whose "
    "writes fade as the episode goes on loses the newest.",
    "",
    "| rule | N | K | overall | oldest third | middle third | newest third | first stored |"
    " last stored | episodes | machine |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ]
  for r in sorted(records, key=lambda r: (r["n"], r["k"], r["rule"])):
    old, mid, new = thirds(r)
    acc = r["accuracy_by_position"]
    lines.append(
      f"| {r['rule']} | {r['n']} | {r['k']} | {r['hidden_bit_accuracy']:.4f} | {old:.4f} | "
      f"{mid:.4f} | {new:.4f} | {acc[0]:.4f} | {acc[-1]:.4f} | {r['episodes']} | {r['machine']} |"
    )
  if plot_path:
    lines += ["", f"![serial position]({plot_path})"]
  return "\n".join(lines + [""])


def plot(records: list, path: str) -> None:
  """One panel per (N, K): accuracy against storage position, one line per rule."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  panels = sorted({(r["n"], r["k"]) for r in records})
  if not panels:
    return
  color = style.colours(sorted({r["rule"] for r in records}))  # the same in every panel
  fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False)
  for ax, (n, k) in zip(axes[0], panels, strict=True):
    for r in sorted((r for r in records if (r["n"], r["k"]) == (n, k)), key=lambda r: r["rule"]):
      acc = r["accuracy_by_position"]
      ax.plot(np.arange(k), acc, marker=".", label=r["rule"], color=color[r["rule"]])
    ax.axhline(0.99, color="gray", lw=0.8, ls="--")
    ax.set_title(f"N = {n}, K = {k}")
    ax.set_xlabel("storage position (0 = oldest)")
    ax.set_ylabel("hidden-bit accuracy")
    ax.legend(fontsize=7)
  fig.tight_layout()
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  fig.savefig(path, dpi=100)
  plt.close(fig)


def section(context) -> list[str]:
  found = context.read("serial_position.jsonl", KIND)
  if not found:
    return []
  plot(found, context.plot_path("serial_position.png"))
  return markdown(found, context.link("serial_position.png")).split("\n")


STUDY = Study(
  name="serial_position",
  run=run,
  section=section,
  validate=validate,
  summary=lambda found, config: [markdown(found)],
)
