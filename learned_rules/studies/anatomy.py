"""What a rule learned: its synapse update as a function of pre- and
post-synaptic activity during storage, beside Hebbian and Storkey, and where its memory lives.

Storage update. On the remember task (auto mode, K patterns in K slots) every neuron is clamped
to its bit of pattern k while k is stored, so during storage a synapse's pre- and post-synaptic
activities are the two bits (x_pre, x_post) in {-1, +1}. For each stored pattern, the change of
every synapse-state component over the pattern's window (from the step before its first store
step to the end of its blank gap, when the release-write rules write) is grouped by the sign
pair of its two bits. Reported per rule and component: the mean and std of the change in each of
the four groups, and its correlation with x_post x_pre over all synapses and patterns
(Hebbian: 1 by construction; Storkey: below 1, since it also subtracts the fields). A std that is
large against the group means says the update depends on more than the two bits (on the other
state: the field, the neuron state, the synapse's own value).

Memory location: the probe of `learned_rules/probes.py` at loads below and above what the
rule's neuron states alone hold.

Records (results/rule_anatomy.jsonl): kind 'anatomy_update' (one per rule) and
'anatomy_probe' (one per rule and load); `markdown` and `plot` read them back.
"""

import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from learned_rules import experiment, probes
from learned_rules.common import overrides
from learned_rules.common import records as records_io
from learned_rules.common.errors import ConfigError
from learned_rules.studies.base import Study
from learned_rules.tasks.base import model_inputs
from learned_rules.train import params_io, saved_rules

UPDATE, PROBE = "anatomy_update", "anatomy_probe"
GROUPS = ((-1, -1), (-1, 1), (1, -1), (1, 1))  # (x_post, x_pre)


def parse_rule(rule: str) -> tuple[str, dict]:
  """'results/rules/x@rule.frozen_synapse_components=3;rule.hand_eta=0.1' -> (directory,
  {config key: value}): a committed rule run with overrides (an ablation), values parsed by
  `overrides.parse_value`."""
  path, _, rest = rule.partition("@")
  parsed = {}
  for item in filter(None, rest.split(";")):
    key, sep, value = item.partition("=")
    if not sep:
      raise ConfigError(f"{rule!r}: override {item!r} is not key=value.")
    parsed[key.strip()] = overrides.parse_value(value.strip())
  return path, parsed


def rule_setup(rule: str, n: int, k: int, bases):
  """(label, config, model, params) of a hand-written rule name or a committed rule directory,
  the latter with optional '@key=value;...' overrides (parse_rule; the label keeps them). A single
  value for a tuple key is a 1-tuple ('=3' is (3,)): a comma would split a --rules list."""
  rule_dir, changes = parse_rule(rule)
  if os.sep in rule_dir or os.path.isdir(rule_dir):
    try:
      config = saved_rules.load_config(rule_dir, bases)
    except ValueError as error:
      raise ConfigError(str(error)) from None
    label = os.path.basename(os.path.normpath(rule_dir))
    with config.unlocked():
      for key, value in changes.items():
        try:
          tuple_key = isinstance(overrides.get_key(config, key), tuple)
        except (KeyError, AttributeError):
          tuple_key = False  # set_key names the unknown key
        if tuple_key and not isinstance(value, list | tuple):
          value = (value,)
        overrides.set_key(config, key, value, source=f"rule {rule!r}")
    if changes:
      label += "@" + ";".join(f"{key.split('.')[-1]}={value}" for key, value in changes.items())
  elif changes:
    raise ConfigError(f"{rule!r}: overrides ('@...') apply to a committed rule directory only.")
  else:
    config, label = bases.remember.copy_and_resolve_references(), rule
    with config.unlocked():
      config.rule.name = rule
  with config.unlocked():
    config.task.mode = "auto"
    config.task.pattern_bits = n
    config.task.k_min = config.task.k_max = k
    config.topology.name = "fully_connected"
  exp = experiment.build(config)
  model = exp.model(config.rule.name)
  params = model.init_params(jax.random.PRNGKey(0))
  if config.eval.get("params_file"):
    params = params_io.load_params(config.eval.params_file, params)
  return label, config, exp, model, params


def pattern_windows(task, lag: int = 0) -> list[tuple[int, int]]:
  """(first store step, window end) per slot, as indices into the states *before* each step:
  the change over [start, end) is pattern k's. A window runs from k's first store step to the
  next pattern's (the last one to the end of its blank gap), shifted by `lag` steps: rules that
  write on release (Storkey, delta) write a pattern on the step after its gap."""
  slots = task.schedule.store_slot
  firsts = [int(np.argmax(slots == s)) for s in range(int(slots.max()) + 1)]
  last_store = int(np.nonzero(slots >= 0)[0].max())
  ends = firsts[1:] + [last_store + task.config.gap_steps + 1]
  return [(first + lag, end + lag) for first, end in zip(firsts, ends, strict=True)]


LAGS = (0, 1)  # window shifts tried; the one whose change depends most on the pattern is kept


def storage_updates(model, params, task, seed: int, num_episodes: int) -> dict:
  """Per component: mean/std of the change by (x_post, x_pre) group, and corr with x_post x_pre,
  at the window lag (LAGS) where the change correlates most with x_post x_pre."""
  if task.config.delay_steps < max(LAGS):
    raise ConfigError(f"anatomy needs task.delay_steps >= {max(LAGS)} (the last write's lag).")
  k = task.load_range[1]
  episodes = task.sample_batch(jax.random.PRNGKey(seed), num_episodes, k, k)
  inputs = model_inputs(task, model, episodes)  # (B, T, N, C)
  mask = np.asarray(model.topology.mask) > 0
  firsts = [first for first, _ in pattern_windows(task)]

  @jax.jit
  def one(key, external):
    state = model.init_state(params, key)
    embeddings = model.embeddings(params)

    def body(carry, x):
      new, _ = model.step(params, carry, x, embeddings)
      return new, model.dense_synapse_state(new.synapse_state)

    start = model.dense_synapse_state(state.synapse_state)
    _, states = jax.lax.scan(body, state, external)  # states[t]: after step t
    states = jnp.concatenate([start[None], states])  # states[t]: before step t
    deltas = jnp.stack(
      [
        jnp.stack([states[end] - states[first] for first, end in pattern_windows(task, lag)])
        for lag in LAGS
      ]
    )  # (lags, K, N, N, d)
    bits = jnp.stack([jnp.sign(external[f, :, 0]) for f in firsts])  # clamped pattern bits
    return deltas, bits

  keys = jax.random.split(jax.random.PRNGKey(seed + 1), num_episodes)
  deltas, bits = jax.vmap(one)(keys, inputs)  # (B, lags, K, N, N, d), (B, K, N)
  deltas, bits = np.asarray(deltas), np.asarray(bits)
  products = bits[..., :, None] * bits[..., None, :]  # (B, K, N, N) [post, pre]
  real = np.broadcast_to(mask, products.shape)
  post = np.broadcast_to(bits[..., :, None], products.shape)
  pre = np.broadcast_to(bits[..., None, :], products.shape)

  def summarize(d):
    groups = {}
    for x_post, x_pre in GROUPS:
      sel = real & (post == x_post) & (pre == x_pre)
      groups[group_key(x_post, x_pre)] = {"mean": float(d[sel].mean()), "std": float(d[sel].std())}
    flat_d, flat_p = d[real], products[real]
    corr = float(np.corrcoef(flat_d, flat_p)[0, 1]) if flat_d.std() > 0 else None
    return {"groups": groups, "corr_with_product": corr, "rms": float(flat_d.std())}

  by_lag = [
    [summarize(deltas[:, i, ..., c]) for c in range(deltas.shape[-1])] for i in range(len(LAGS))
  ]
  strength = [max(abs(c["corr_with_product"] or 0.0) for c in comps) for comps in by_lag]
  best = int(np.argmax(strength))
  return {
    "components": by_lag[best],
    "lag": LAGS[best],
    "patterns": int(bits.shape[0] * bits.shape[1]),
  }


def validate(config) -> None:
  """Every rule loads (with its overrides) before anything is measured."""
  for rule in config.rules:
    rule_setup(rule, config.n, config.k, config.bases)


def run(config) -> list:
  """Measures every rule (replacing earlier records of the same rule); returns all records."""
  n, k, episodes, machine = config.n, config.k, config.episodes, config.machine
  out = []
  for rule in config.rules:
    start = time.time()
    label, _, exp, model, params = rule_setup(rule, n, k, config.bases)
    update = storage_updates(model, params, exp.task, seed=11, num_episodes=episodes)
    out.append(
      {"kind": UPDATE, "rule": label, "n": n, "k": k, "episodes": episodes, **update}
      | {"wall_s": time.time() - start, "machine": records_io.machine_description(machine)}
    )
    for load in config.probe_loads:
      start = time.time()
      label, _, exp, model, params = rule_setup(rule, n, load, config.bases)
      report = probes.memory_location(model, params, exp.task, 12, episodes, episodes)
      out.append(
        {
          "kind": PROBE,
          "rule": label,
          "n": n,
          "k": load,
          "episodes": episodes,
          **{c: report[c]["hidden_bit_accuracy"] for c in probes.CONDITIONS},
          "synapse_fraction": report["synapse_fraction"],
          "neuron_fraction": report["neuron_fraction"],
          "wall_s": time.time() - start,
          "machine": records_io.machine_description(machine),
        }
      )
  records_io.replace(config.records, out, lambda old, new: old["rule"] == new["rule"])
  return read_records(config.records)


def read_records(path: str) -> list:
  return records_io.read(path)


def group_key(x_post: int, x_pre: int) -> str:
  return f"{x_post:+d}{x_pre:+d}"


def ordered_groups(component: dict) -> list[dict]:
  """A component's four groups in GROUPS order, (−,−), (−,+), (+,−), (+,+), whatever the order
  of its dict (records are written with sorted keys, which reverses it)."""
  return [component["groups"][group_key(x_post, x_pre)] for x_post, x_pre in GROUPS]


def markdown(records: list, plot_path: str = "") -> str:
  updates = [r for r in records if r["kind"] == UPDATE]
  probes_ = [r for r in records if r["kind"] == PROBE]
  if not updates:
    return ""
  lines = [
    "## What the rule learned: its storage update and where its memory lives",
    "",
    "Change of each synapse-state component over a stored pattern's window, grouped by the "
    "(post, pre) bits of that pattern (auto-association, K patterns in K slots, fully "
    "connected); mean ± std over synapses and patterns, and the correlation of the change with "
    "x_post x_pre. The window runs from the pattern's first store step to the next pattern's, "
    "shifted by the lag (0 or 1 step) at which the change correlates most with x_post x_pre "
    "(release-write rules write one step late). "
    "`python -m experiments.study --config=configs/studies/anatomy.py`.",
    "",
  ]
  if plot_path:
    lines += [f"![storage updates]({plot_path})", ""]
  lines += [
    "| rule | N | K | lag | component | (−,−) | (−,+) | (+,−) | (+,+) | corr with x_post x_pre |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ]
  for r in updates:
    for c, comp in enumerate(r["components"]):
      cells = [f"{g['mean']:+.4f} ± {g['std']:.4f}" for g in ordered_groups(comp)]
      corr = "-" if comp["corr_with_product"] is None else f"{comp['corr_with_product']:+.3f}"
      lines.append(
        f"| {r['rule']} | {r['n']} | {r['k']} | {r['lag']} | w[{c}] | "
        + " | ".join(cells)
        + f" | {corr} |"
      )
  if probes_:
    lines += [
      "",
      "Memory-location probe (hidden-bit accuracy; fraction of the stored information left when "
      "the other part is reset):",
      "",
      "| rule | N | K | intact | synapses reset | neurons reset | in synapses | in neurons |",
      "|---|---|---|---|---|---|---|---|",
    ]
    fmt = lambda v: "-" if v is None else f"{v:.2f}"
    for r in probes_:
      lines.append(
        f"| {r['rule']} | {r['n']} | {r['k']} | {r['intact']:.3f} | {r['reset_synapses']:.3f} | "
        f"{r['reset_neurons']:.3f} | {fmt(r['synapse_fraction'])} | {fmt(r['neuron_fraction'])} |"
      )
  machines = sorted({r["machine"] for r in records})
  wall = sum(r["wall_s"] for r in records)
  lines += ["", f"{wall / 60:.1f} min on {', '.join(machines)}.", ""]
  return "\n".join(lines)


def plot(records: list, path: str) -> None:
  """One 2x2 heat map (rows x_post, columns x_pre) of the mean change per rule and component."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  panels = [
    (r["rule"], c, comp)
    for r in records
    if r["kind"] == UPDATE
    for c, comp in enumerate(r["components"])
  ]
  if not panels:
    return
  cols = min(6, len(panels))
  rows = -(-len(panels) // cols)
  fig, axes = plt.subplots(rows, cols, figsize=(2.3 * cols, 2.4 * rows), squeeze=False)
  for ax in axes.flat:
    ax.axis("off")
  for ax, (rule, c, comp) in zip(axes.flat, panels, strict=False):
    means = np.array([g["mean"] for g in ordered_groups(comp)]).reshape(2, 2)
    scale = np.abs(means).max() or 1.0
    ax.axis("on")
    ax.imshow(means, cmap="RdBu_r", vmin=-scale, vmax=scale)
    for (i, j), value in np.ndenumerate(means):
      ax.text(j, i, f"{value:+.3g}", ha="center", va="center", fontsize=7)
    ax.set_xticks([0, 1], ["pre −", "pre +"], fontsize=7)
    ax.set_yticks([0, 1], ["post −", "post +"], fontsize=7)
    corr = comp["corr_with_product"]
    ax.set_title(f"{rule} w[{c}]\ncorr {'-' if corr is None else f'{corr:+.2f}'}", fontsize=7)
  fig.tight_layout()
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  fig.savefig(path, dpi=110)
  plt.close(fig)


def section(context) -> list[str]:
  found = context.read("rule_anatomy.jsonl")
  if not found:
    return []
  plot(found, context.plot_path("rule_anatomy.png"))
  return markdown(found, context.link("rule_anatomy.png")).split("\n")


STUDY = Study(
  name="anatomy",
  run=run,
  section=section,
  validate=validate,
  summary=lambda found, config: [markdown(found)],
)
