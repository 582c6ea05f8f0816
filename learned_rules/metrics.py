"""Recall metrics of bit-valued read-outs, each with its criterion stated in its docstring.

Array-level functions only: a task (tasks/) decides which bits are scored, hidden and read, and
calls these; nothing here knows a task's episode layout.
"""

import jax
import jax.numpy as jnp
import optax


def masked_cross_entropy_sum(logits, targets, mask) -> jax.Array:
  """Sum of the sigmoid cross-entropy of logits against {0, 1} targets where mask is 1."""
  return jnp.sum(optax.sigmoid_binary_cross_entropy(logits, targets) * mask)


def binary_entropy(p):
  p = jnp.clip(p, 1e-12, 1.0 - 1e-12)
  return -(p * jnp.log2(p) + (1.0 - p) * jnp.log2(1.0 - p))


def bit_recall_counts(
  logits, targets, scored_mask, hidden_mask, item_mask, num_items, bits_per_item
) -> dict:
  """Sums over one episode of (T, V) read-outs, read where `item_mask` (T,) marks an item's end.

  A bit is correct when sign(logit) matches the {0, 1} target. Perfect recall: every scored bit
  of an item correct. Stored information I = num_items * bits_per_item * (1 - H2(e)), where e is
  the error on the hidden bits (the ones the cue did not give away; all scored bits if none were
  hidden), capped at 0.5; num_items * bits_per_item counts every bit a memory must hold to
  answer any cue.
  """
  correct = ((logits > 0).astype(jnp.float32) == targets).astype(jnp.float32)
  at_eval = item_mask[:, None]
  scored = scored_mask * at_eval
  hidden = hidden_mask * at_eval
  wrong_scored = jnp.sum(scored * (1.0 - correct), axis=1)
  counts = {
    "hidden_correct": jnp.sum(hidden * correct),
    "hidden_total": jnp.sum(hidden),
    "scored_correct": jnp.sum(scored * correct),
    "scored_total": jnp.sum(scored),
    "items_perfect": jnp.sum(item_mask * (wrong_scored == 0)),
    "items_total": jnp.sum(item_mask),
  }
  use_hidden = counts["hidden_total"] > 0
  errors = jnp.where(
    use_hidden,
    counts["hidden_total"] - counts["hidden_correct"],
    counts["scored_total"] - counts["scored_correct"],
  )
  total = jnp.where(use_hidden, counts["hidden_total"], counts["scored_total"])
  error_rate = jnp.minimum(errors / jnp.maximum(total, 1.0), 0.5)
  counts["information_bits"] = (
    num_items * bits_per_item * (1.0 - binary_entropy(error_rate))
  ).astype(jnp.float32)
  counts["episodes"] = jnp.float32(1.0)
  return counts


def accuracies(counts: dict) -> dict:
  """Hidden-bit and scored-bit accuracy (jnp) from counts summed over a batch."""
  return {
    "hidden_bit_accuracy": counts["hidden_correct"] / jnp.maximum(counts["hidden_total"], 1.0),
    "bit_accuracy": counts["scored_correct"] / jnp.maximum(counts["scored_total"], 1.0),
  }


def summarize(counts: dict, num_synapses: int, num_state_floats: int) -> dict:
  """Turns summed counts (over episodes) into the reported metrics."""
  episodes = max(float(counts["episodes"]), 1.0)
  information = float(counts["information_bits"]) / episodes
  return {
    "hidden_bit_accuracy": float(counts["hidden_correct"])
    / max(float(counts["hidden_total"]), 1.0),
    "bit_accuracy": float(counts["scored_correct"]) / max(float(counts["scored_total"]), 1.0),
    "perfect_recall_fraction": float(counts["items_perfect"])
    / max(float(counts["items_total"]), 1.0),
    "information_bits": information,
    # None where the memory has no synapses or state (the oracle keeps the patterns verbatim).
    "bits_per_synapse": information / num_synapses if num_synapses else None,
    "bits_per_state_float": information / num_state_floats if num_state_floats else None,
  }
