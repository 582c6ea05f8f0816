r"""How a layered rule's storage updates line up with the delta rule and with back-propagation.

  python -m experiments.study --config=configs/studies/update_alignment.py

On the layered net of `config.bases.remember_layered` (D input bits -> one hidden layer -> D
answer neurons, the answer taught on the outputs' teaching channel while a pair is stored), K
pairs (x_k, t_k) in K slots. For every stored pair and synapse layer (input -> hidden,
hidden -> output), the rule's change of its synapses' effective weights over the pair's storage
window is compared with references computed on the same network state:

- the window: the engine updates a synapse from the neuron states before each step, so the first
  step of pair k still writes what the previous pair left, and pair k's last write lands on the
  step after its gap. Pair k's window is therefore [first store step + 1, next pair's first store
  step + 1) (the last pair: its gap step + 1): windows tile the storage phase and each holds the
  writes of one pair only;
- the state just before pair k: the synapse states at the window's start and the neuron states
  before the pair's first store step (neither holds anything of pair k). From it the net is shown
  x_k as a cue (`recall_steps` steps, store flag off, nothing taught) and answers y = logit / 4
  (backprop.py's read-out: its logit is 4 y), with pre activities x (input) and a (hidden);
- delta (output layer): (t - y) a^T at unit rate; Hebbian: t a^T on the output layer (the taught
  value as the post activity) and a x^T on the input layer (the cue's hidden activity as the post
  activity); the delta rule has no target at hidden neurons;
- backprop: minus the gradient of backprop.py's loss E = 1/2 |y - t|^2 of that answer, taken by
  autodiff through the rule's own network (the answer run above) w.r.t. every synapse state, then
  w.r.t. the effective weights (along the smallest state change that moves each weight by one);
  `backprop_state` compares the change of the whole synapse state with the whole-state gradient.
  On the engine's perceptron rules this is exactly the step rules/backprop.py takes, and on the
  output layer of a linear answer layer it is the delta rule: `delta_vs_backprop` is 1 there, a
  check of the harness; for a learned rule it is below 1 by how far its answer is from linear in
  its output weights.

The effective weight: a learned rule in its bilinear form gates a hidden unit u of its synapse
network by (K_g w) (G_pre [h_pre, e_pre]), the synapse's state times presynaptic activity, which
is what a weight does (rules/learned.py). Layer l's weight is (K_g w)_u and its pre activity
(G_pre [h, e])_u with u = `carrier_units[l]`: units 0 and 1 carry the input and the hidden
activity forward in the hand-set start (rules/hand_init.py), and meta-training from it keeps
that role (those two units dominate the trained rules' forward messages). A rule meta-trained
from a random init has no such unit, so its read-out is an arbitrary one of many. The engine's
`backprop` and `delta_features` rules run through the same harness with their weight component
and activity (rules/backprop.py): each must match its own reference (cosine 1, scale its rate),
which checks the windows, the answer run and the references.

The answer's change: weight read-outs are arbitrary for a rule with no weight-carrying unit (one
meta-trained from a random init), so every rule is also measured through its answer alone: dy,
the change of its answer y to the pair's key made by the pair's synapse writes (the answer run
from the same neuron states, with the synapse states after the window against those before),
against t (what a Hebbian write adds to the answer) and t - y (what the delta rule adds), and the
per-pair least-squares fit dy = alpha t - beta y (beta / alpha: 0 Hebbian, 1 delta).

Per pair and (layer, reference): the cosine of the two updates flattened over the layer's
synapses, and the norm ratio |learned| / |reference| (the implied rate of a unit-rate reference);
a pair whose update or reference is zero has no cosine (counted `undefined`). Records (kind
'update_alignment', one per rule and K) keep quantiles over pairs and episodes; a rule recorded
with the same settings is skipped.
"""

import dataclasses
import json
import os
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from learned_rules import experiment
from learned_rules.common import records as records_io
from learned_rules.common.errors import ConfigError
from learned_rules.rules import backprop
from learned_rules.rules.learned import LearnedRule
from learned_rules.state import NetworkState
from learned_rules.studies import layered_table, style
from learned_rules.studies.base import Study
from learned_rules.tasks.base import external_channels, model_inputs
from learned_rules.train import saved_rules

KIND = "update_alignment"
RECORDS = "update_alignment.jsonl"
PLOT = "update_alignment.png"
ENGINE_RULES = ("backprop", "delta_features")  # hand-set rules measured as harness checks
LAYERS = ("input_hidden", "hidden_output")
LAYER_NAMES = {"input_hidden": "input → hidden", "hidden_output": "hidden → output"}
# References per layer: the delta rule needs a target, which only the outputs have.
REFERENCES = {
  "input_hidden": ("hebbian", "backprop", "backprop_state"),
  "hidden_output": ("delta", "hebbian", "backprop", "backprop_state"),
}
ANSWER_SCALE = 4.0  # backprop.py's readout_scale: its answer y is logit / 4
QUANTILES = (5, 25, 50, 75, 95)
ZERO_NORM = 1e-12  # an update (or reference) at most this long has no direction


@dataclasses.dataclass(frozen=True)
class WeightView:
  """How a rule's states read as a perceptron's weights and activities, layer by layer.

  weights(synapse block (P, Q, d_w), layer) -> (P, Q) effective weights;
  weight_gradient(gradient w.r.t. that block, layer) -> (P, Q) the gradient w.r.t. those weights
  (along the smallest change of the state that moves each weight by one);
  activity(neuron states (M, d_h), embeddings (M, d_e), layer) -> (M,) the activity of the
  layer's presynaptic neurons as its synapses multiply it; answer(logits) -> y in the targets'
  units.
  """

  weights: Callable
  weight_gradient: Callable
  activity: Callable
  answer: Callable
  description: str


def learned_view(params, carrier_units) -> WeightView:
  """The bilinear gate read-out of a learned rule (module docstring)."""
  gates = params["synapse_bilinear"]
  weight_rows = [gates["w_gate"][:, u] for u in carrier_units]  # (d_w,)
  activity_rows = [gates["pre_gate"][:, u] for u in carrier_units]  # (d_h + d_e,)
  return WeightView(
    weights=lambda block, layer: block @ weight_rows[layer],
    weight_gradient=lambda grad, layer: (
      grad @ weight_rows[layer] / jnp.sum(weight_rows[layer] ** 2)
    ),
    activity=lambda h, e, layer: jnp.concatenate([h, e], axis=-1) @ activity_rows[layer],
    answer=lambda logits: logits / ANSWER_SCALE,
    description=f"gate read-out (K_g w)_u, units {tuple(carrier_units)}",
  )


def engine_view(rule) -> WeightView:
  """backprop / delta_features: the weight component and the activity (rules/backprop.py).

  Every state the study reads is past the episode's first step, where each weight is scaled to
  its start law (the SCALED flag), so the weight is the component itself."""
  return WeightView(
    weights=lambda block, layer: block[..., backprop.W],
    weight_gradient=lambda grad, layer: grad[..., backprop.W],
    activity=lambda h, e, layer: h[:, backprop.ACT],
    answer=lambda logits: logits / rule.readout_scale,
    description="the weight component w and the activity a (rules/backprop.py)",
  )


def storage_windows(task) -> list[tuple[int, int, int]]:
  """(first store step, window start, window end) per slot, as indices of the states before each
  step: pair k's change is states[end] - states[start] (module docstring: one step late)."""
  slots = task.schedule.store_slot
  firsts = [int(np.argmax(slots == s)) for s in range(int(slots.max()) + 1)]
  last_store = int(np.nonzero(slots >= 0)[0].max())
  ends = firsts[1:] + [last_store + task.config.gap_steps + 1]
  return [(first, first + 1, end + 1) for first, end in zip(firsts, ends, strict=True)]


def _pair_sums(learned, reference):
  """(learned . reference, |learned|^2, |reference|^2) over every entry."""
  return jnp.stack([jnp.sum(learned * reference), jnp.sum(learned**2), jnp.sum(reference**2)])


def _measure_fn(model, params, view: WeightView, task):
  """One episode (synapse key, external (T, N, C), keys (K, D), answers (K, D)) -> per pair
  sums {name: (K, 3)} (`_pair_sums`) and (K, 9) answer statistics (rms of y, bits right, and
  the dot products `answer_fit` takes, for the whole and the first-order change)."""
  topology = model.topology
  inputs = topology.group_slice("input")
  hidden = topology.group_slice("hidden0")
  outputs = topology.group_slice("output")
  blocks = {"input_hidden": (hidden, inputs), "hidden_output": (outputs, hidden)}
  recall_steps = task.config.recall_steps
  teaching = task.teaching
  firsts, starts, ends = (np.array(column) for column in zip(*storage_windows(task), strict=True))
  embeddings = model.embeddings(params)

  def answer_run(synapse_state, neuron_state, key):
    """The net shown `key` as a cue from this state: (final neuron states, its answer y)."""
    values = jnp.broadcast_to(key, (recall_steps, key.shape[0]))
    flags = jnp.zeros((recall_steps,))
    external = external_channels(
      topology, values, flags, jnp.zeros_like(values) if teaching else None
    )
    final, logits = model.run(params, NetworkState(neuron_state, synapse_state), external, False)
    return final.neuron_state, view.answer(logits[-1])

  def pair(synapses_before, synapses_after, neurons_before, key, t):
    answer_of = lambda synapses: answer_run(synapses, neurons_before, key)
    # One linearization serves the answer y, its final neuron states and backprop.py's gradient
    # of 1/2 |y - t|^2 w.r.t. the synapse states (J^T (y - t)).
    (probe, y), pullback = jax.vjp(answer_of, synapses_before)
    (grad,) = pullback((jnp.zeros_like(probe), y - t))
    before = model.dense_synapse_state(synapses_before)
    change = model.dense_synapse_state(synapses_after) - before
    descent = -model.dense_synapse_state(grad)
    x = view.activity(probe[inputs], embeddings[inputs], 0)
    a = view.activity(probe[hidden], embeddings[hidden], 1)
    delta = jnp.outer(t - y, a)
    hebbian = {"input_hidden": jnp.outer(a, x), "hidden_output": jnp.outer(t, a)}
    sums = {}
    for layer, (name, (post, pre)) in enumerate(blocks.items()):
      w = before[post, pre]
      learned = view.weights(w + change[post, pre], layer) - view.weights(w, layer)
      backprop_step = view.weight_gradient(descent[post, pre], layer)
      sums[f"{name}/hebbian"] = _pair_sums(learned, hebbian[name])
      sums[f"{name}/backprop"] = _pair_sums(learned, backprop_step)
      sums[f"{name}/backprop_state"] = _pair_sums(change[post, pre], descent[post, pre])
      if name == "hidden_output":
        sums[f"{name}/delta"] = _pair_sums(learned, delta)
        sums["check/delta_vs_backprop"] = _pair_sums(delta, backprop_step)
        sums["check/delta_vs_hebbian"] = _pair_sums(delta, hebbian[name])
    # The write's effect on the answer to the pair's own key, from the same neuron states.
    # dy: the whole change; dy_lin: its first order in the write (no saturation of the read).
    answer_y = lambda synapses: answer_of(synapses)[1]
    dy = answer_y(synapses_after) - y
    tangent = jax.tree.map(jnp.subtract, synapses_after, synapses_before)
    _, dy_lin = jax.jvp(answer_y, (synapses_before,), (tangent,))
    terms = []
    for name, change_of_y in (("answer", dy), ("answer_linear", dy_lin)):
      sums[f"{name}/delta"] = _pair_sums(change_of_y, t - y)
      sums[f"{name}/hebbian"] = _pair_sums(change_of_y, t)
      terms += [t @ change_of_y, y @ change_of_y]  # for the fit dy = alpha t - beta y
    right = jnp.mean((1.0 + jnp.sign(y) * t) / 2.0)  # a zero answer is half right
    answer_stats = [jnp.sqrt(jnp.mean(y**2)), right, t @ t, t @ y, y @ y, *terms]
    return sums, jnp.stack(answer_stats)

  def one(rng, external, keys, answers):
    start = model.init_state(params, rng)

    def body(state, step_external):
      new, _ = model.step(params, state, step_external, embeddings)
      return new, new

    _, states = jax.lax.scan(body, start, external)
    # states_before[s]: the state before step s (s = 0..T).
    states_before = jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), start, states)
    at = lambda steps: jax.tree.map(lambda x: x[steps], states_before.synapse_state)
    return jax.vmap(pair)(at(starts), at(ends), states_before.neuron_state[firsts], keys, answers)

  return one


def pair_alignment(model, params, view, task, k: int, episodes: int, seed: int):
  """Per pair over `episodes` episodes of K = k pairs: {name: (cosines, norm ratios)} (numpy,
  NaN where undefined) and the answer before each pair {answer_rms, answer_bits_right}."""
  rng_episodes, rng_state = jax.random.split(jax.random.PRNGKey(seed))
  batch = task.sample_batch(rng_episodes, episodes, k, k)
  external = model_inputs(task, model, batch)
  d = task.config.pattern_bits
  keys, answers = batch.patterns[:, :, 0, :d], batch.patterns[:, :, 0, d:]
  one = _measure_fn(model, params, view, task)
  sums, stats = jax.jit(jax.vmap(one))(
    jax.random.split(rng_state, episodes), external, keys, answers
  )
  out = {}
  for name, value in sums.items():
    value = np.asarray(value, np.float64).reshape(-1, 3)
    dot, learned, reference = value[:, 0], np.sqrt(value[:, 1]), np.sqrt(value[:, 2])
    defined = (learned > ZERO_NORM) & (reference > ZERO_NORM)
    cosine = np.where(defined, dot / np.where(defined, learned * reference, 1.0), np.nan)
    ratio = np.where(reference > ZERO_NORM, learned / np.maximum(reference, ZERO_NORM), np.nan)
    out[name] = (cosine, ratio)
  stats = np.asarray(stats, np.float64).reshape(-1, 9)
  return out, {
    "answer_rms": float(np.sqrt(np.mean(stats[:, 0] ** 2))),
    "answer_bits_right": float(stats[:, 1].mean()),
    "answer_fit": answer_fit(stats[:, [2, 3, 4, 5, 6]]),
    "answer_linear_fit": answer_fit(stats[:, [2, 3, 4, 7, 8]]),
  }


def answer_fit(terms: np.ndarray) -> dict:
  """Quantiles over pairs of (alpha, beta) in the least-squares fit dy = alpha t - beta y.

  `terms`: (pairs, 5) of t.t, t.y, y.y, t.dy, y.dy. A Hebbian write moves the answer along the
  target only (beta = 0); the delta rule along the error t - y (beta = alpha). A pair whose t
  and y are (nearly) parallel has no fit (counted `undefined`).
  """
  tt, ty, yy, tdy, ydy = terms.T
  det = tt * yy - ty**2
  defined = det > 1e-9 * np.maximum(tt * yy, ZERO_NORM)
  safe = np.where(defined, det, 1.0)
  alpha = np.where(defined, (yy * tdy - ty * ydy) / safe, np.nan)
  beta = np.where(defined, (ty * tdy - tt * ydy) / safe, np.nan)
  ok = defined & (np.abs(np.nan_to_num(alpha)) > ZERO_NORM)
  ratio = np.where(ok, beta / np.where(ok, alpha, 1.0), np.nan)
  return {"alpha": quantiles(alpha), "beta": quantiles(beta), "beta_over_alpha": quantiles(ratio)}


def quantiles(values: np.ndarray) -> dict:
  """Quantiles (q5..q95), mean and counts of the defined (finite) values."""
  finite = values[np.isfinite(values)]
  out = {"n": int(finite.size), "undefined": int(values.size - finite.size)}
  if finite.size:
    out |= {f"q{q}": float(np.percentile(finite, q)) for q in QUANTILES}
    out["mean"] = float(finite.mean())
  return out


def summarize(cosines: np.ndarray, ratios: np.ndarray) -> dict:
  """One (layer, reference) of a record: quantiles of its cosines and of its norm ratios."""
  return {"cosine": quantiles(cosines), "scale": quantiles(ratios)}


# --- setting a rule up ---------------------------------------------------------------------------
def task_config(k: int, options):
  """The layered task at K = k pairs in k slots, with the study's overrides."""
  return layered_table.task_config(k, options, source="update_alignment override")


def _check_task(config) -> None:
  task, topology = config.task, config.topology
  if topology.name != "layered" or len(topology.hidden_sizes) != 1:
    raise ConfigError(
      f"overrides: topology.name={topology.name!r}, hidden_sizes={tuple(topology.hidden_sizes)}: "
      "update_alignment compares two synapse layers, on a layered net with one hidden layer."
    )
  if task.mode != "hetero" or not task.get("teaching", False):
    raise ConfigError(
      f"overrides: task.mode={task.mode!r}, task.teaching={task.get('teaching', False)}: the "
      "references need the answer taught to the outputs (task.mode='hetero', task.teaching=True)."
    )
  if task.get("repetitions", 1) != 1:
    raise ConfigError(
      f"overrides: task.repetitions={task.repetitions}: a pair's window is its one presentation."
    )


def rule_setup(rule: str, k: int, options):
  """(label, rule_dir or None, model, params, view, task) of one entry of `rules`; ConfigError
  names a bad entry."""
  config = task_config(k, options)
  _check_task(config)
  if rule in ENGINE_RULES:
    with config.unlocked():
      config.rule.name = rule
    rule_dir, params = None, None
  else:
    config, params, _ = saved_rules.onto(config, rule, options.bases, f"rules: {rule!r}")
    rule_dir = rule
  exp = experiment.build(config)
  model = exp.model(config.rule.name)
  built = model.rule
  if rule in ENGINE_RULES:
    params = model.init_params(jax.random.PRNGKey(0))
    view = engine_view(built)
  else:
    if not isinstance(built, LearnedRule) or not built.bilinear:
      raise ConfigError(
        f"rules: {rule!r}: its weight is read from the bilinear gate (module docstring); this "
        "rule has rule.bilinear=False."
      )
    for i, unit in enumerate(options.carrier_units):
      if isinstance(unit, bool) or not isinstance(unit, int) or not 0 <= unit < built.hidden_size:
        raise ConfigError(
          f"carrier_units[{i}]={unit!r}: must be a unit of the synapse network, 0.."
          f"{built.hidden_size - 1} (rule.hidden_size of {rule!r})."
        )
    view = learned_view(params, options.carrier_units)
  return style.rule_label(rule), rule_dir, model, params, view, exp.task


def _positive_int(key: str, value) -> None:
  if isinstance(value, bool) or not isinstance(value, int) or value < 1:
    raise ConfigError(f"{key}={value!r}: must be a positive integer.")


def validate(options) -> None:
  """Every key and every rule, before anything is measured."""
  if not options.rules:
    raise ConfigError("rules=(): name at least one committed rule directory or engine rule.")
  if not options.ks:
    raise ConfigError("ks=(): name at least one number of pairs.")
  for i, k in enumerate(options.ks):
    _positive_int(f"ks[{i}]", k)
  _positive_int("episodes", options.episodes)
  if isinstance(options.seed, bool) or not isinstance(options.seed, int) or options.seed < 0:
    raise ConfigError(f"seed={options.seed!r}: must be a non-negative integer.")
  if len(options.carrier_units) != len(LAYERS):
    raise ConfigError(
      f"carrier_units={tuple(options.carrier_units)}: one unit per synapse layer, {len(LAYERS)}."
    )
  config = task_config(max(options.ks), options)
  _check_task(config)
  experiment.build(config)  # the task and topology blocks, with their own errors
  for rule in options.rules:
    if rule not in ENGINE_RULES and not os.path.isdir(rule):
      raise ConfigError(
        f"rules: {rule!r}: neither a rule directory nor one of the engine rules {ENGINE_RULES}."
      )
    rule_setup(rule, min(options.ks), options)


# --- running -------------------------------------------------------------------------------------
def settings(options, k: int) -> dict:
  """What makes two records of one rule the same measurement."""
  return {
    "k": k,
    "episodes": options.episodes,
    "seed": options.seed,
    "carrier_units": list(options.carrier_units),
    "overrides": list(options.overrides),
  }


def run(options) -> list:
  """Measures every (rule, K) not yet recorded with these settings; returns all records."""
  found = records_io.read(options.records, KIND)
  done = {(r["rule_key"], json.dumps(r["settings"], sort_keys=True)) for r in found}
  for k in options.ks:
    for rule in options.rules:
      setting = settings(options, k)
      key = (rule, json.dumps(setting, sort_keys=True))
      if key in done:
        continue
      start = time.time()
      label, rule_dir, model, params, view, task = rule_setup(rule, k, options)
      pairs, answer = pair_alignment(model, params, view, task, k, options.episodes, options.seed)
      layers = {
        name: {ref: summarize(*pairs[f"{name}/{ref}"]) for ref in REFERENCES[name]}
        for name in LAYERS
      }
      checks = {
        name.split("/")[1]: quantiles(pairs[name][0]) for name in pairs if name.startswith("check/")
      }
      answer_space = {
        space: {
          name.split("/")[1]: summarize(*pairs[name])
          for name in pairs
          if name.split("/")[0] == space
        }
        for space in ("answer", "answer_linear")
      }
      record = {
        "kind": KIND,
        "rule": label,
        "rule_key": rule,
        "rule_dir": rule_dir,
        "settings": setting,
        "k": k,
        "episodes": options.episodes,
        "pairs": k * options.episodes,
        "weight": view.description,
        "pattern_bits": task.config.pattern_bits,
        "layers": layers,
        "checks": checks,
        "answer_space": answer_space,
        **answer,
        "wall_s": time.time() - start,
        **records_io.provenance(options.machine),
      }
      records_io.append(options.records, record)
      found.append(record)
      done.add(key)
      print(summary_line(record), flush=True)
  return found


def summary_line(record: dict) -> str:
  out = record["layers"]["hidden_output"]
  hid = record["layers"]["input_hidden"]
  return (
    f"update_alignment {record['rule']:<28} K={record['k']:<2} "
    f"out: cos delta {_median(out['delta']['cosine'])} backprop "
    f"{_median(out['backprop']['cosine'])} | hidden: cos backprop "
    f"{_median(hid['backprop']['cosine'])} | {record['wall_s']:.0f} s"
  )


# --- the report ----------------------------------------------------------------------------------
def _median(stats: dict, digits: int = 3) -> str:
  return "-" if not stats.get("n") else f"{stats['q50']:.{digits}f}"


def cell(stats: dict, digits: int = 2) -> str:
  """'median [q25, q75]', '-' when no pair has a value."""
  if not stats.get("n"):
    return "-"
  text = f"{stats['q50']:.{digits}f} [{stats['q25']:.{digits}f}, {stats['q75']:.{digits}f}]"
  return text + (f" ({stats['undefined']} undef.)" if stats["undefined"] else "")


def scale_cell(stats: dict) -> str:
  if not stats.get("n"):
    return "-"
  return f"{stats['q50']:.3g} [{stats['q25']:.3g}, {stats['q75']:.3g}]"


def ordered(found: list) -> list:
  """Records by K, then in the order their rules were first recorded."""
  rules = list(dict.fromkeys(r["rule"] for r in found))
  return sorted(found, key=lambda r: (r["k"], rules.index(r["rule"])))


def markdown(found: list, plot_link: str = "") -> list[str]:
  found = ordered(found)
  lines = [
    "## Storage updates against the delta rule and back-propagation (layered nets)",
    "",
    "Each stored pair's change of one synapse layer's effective weights, against the delta rule "
    "((t - y) a), the Hebbian write (t a on the output layer, a x on the input layer) and "
    "back-propagation's step (minus the gradient of backprop.py's loss 1/2 |y - t|² through the "
    "rule's own network, w.r.t. the weights, or w.r.t. the whole synapse state against the "
    "whole state's change), all on the same state: the net just before the pair, its answer "
    "y = logit / 4 to the pair's key x, its hidden activity a. Cosine over the layer's "
    "synapses, one per pair: median [quartiles] over pairs and episodes; scale: |learned| / "
    "|reference| at unit rate. A learned rule's weight is its bilinear gate read-out (units 0 "
    "and 1, the hand-set start's weights); `backprop` and `delta_features` are the engine's "
    "rules through the same harness, a check: each must match its own reference. "
    "learned_rules/studies/update_alignment.py says how each quantity is taken.",
    "",
  ]
  if plot_link:
    lines += [f"![update alignment]({plot_link})", ""]
  lines += [
    "| rule | K | layer | cos delta | cos Hebbian | cos backprop | cos backprop, whole state "
    "| scale vs delta | scale vs backprop |",
    "|---|---|---|---|---|---|---|---|---|",
  ]
  for r in found:
    for name in LAYERS:
      refs = r["layers"][name]
      cos = lambda ref, refs=refs: cell(refs.get(ref, {}).get("cosine", {}))
      scale = lambda ref, refs=refs: scale_cell(refs.get(ref, {}).get("scale", {}))
      lines.append(
        f"| {r['rule']} | {r['k']} | {LAYER_NAMES[name]} | {cos('delta')} | {cos('hebbian')} "
        f"| {cos('backprop')} | {cos('backprop_state')} | {scale('delta')} "
        f"| {scale('backprop')} |"
      )
  lines += [
    "",
    "The references against each other on the output layer, same pairs: delta against "
    "back-propagation (equal by theory for a linear answer layer under squared error, so 1 for "
    "the engine's rules: the harness check; below 1 for a learned rule by how far its answer is "
    "from linear in its output weights) and delta against Hebbian (how much the net's answer "
    "before the pair moves the delta rule off a plain Hebbian write). The answer before the "
    "pair: its rms and the fraction of its bits with the sign of the pair's target (about 0.5: "
    "the state holds nothing of the pair yet).",
    "",
    "| rule | K | cos(delta, backprop) | cos(delta, Hebbian) | rms of y before the pair "
    "| bits of y right before the pair |",
    "|---|---|---|---|---|---|",
  ]
  for r in found:
    checks = r["checks"]
    lines.append(
      f"| {r['rule']} | {r['k']} | {cell(checks['delta_vs_backprop'], 4)} "
      f"| {cell(checks['delta_vs_hebbian'])} | {r['answer_rms']:.3f} "
      f"| {r['answer_bits_right']:.3f} |"
    )
  with_answer = [r for r in found if "answer_space" in r]
  if with_answer:
    lines += [
      "",
      "The same writes seen through the answer, which needs no weight read-out and so holds for "
      "any rule: dy, the change of the net's answer to the pair's own key made by the pair's "
      "synapse writes alone (the same neuron states before and after), against the target t "
      "(what a Hebbian write adds) and the error t - y (what the delta rule adds), and "
      "beta / alpha of the fit dy = alpha t - beta y per pair: 0 for a write that ignores the "
      "current answer, 1 for one that moves it by the error. Linear: the first order of dy in "
      "the write (a Jacobian-vector product), which tells the write's direction; whole: the "
      "answer after the write, where a write that saturates the answer to t reads as delta "
      "whatever its form.",
      "",
      "| rule | K | linear: cos(dy, t - y) | linear: cos(dy, t) | linear: beta / alpha "
      "| whole: cos(dy, t - y) | whole: cos(dy, t) | whole: beta / alpha |",
      "|---|---|---|---|---|---|---|---|",
    ]
    for r in with_answer:
      cells = []
      for space, fit in (("answer_linear", "answer_linear_fit"), ("answer", "answer_fit")):
        refs = r["answer_space"][space]
        cells += [
          cell(refs["delta"]["cosine"]),
          cell(refs["hebbian"]["cosine"]),
          cell(r[fit]["beta_over_alpha"]),
        ]
      lines.append(f"| {r['rule']} | {r['k']} | " + " | ".join(cells) + " |")
  machines = sorted({r["machine"] for r in found})
  commands = sorted({r["command"] for r in found})
  wall = sum(r["wall_s"] for r in found)
  pairs = sorted({r["pairs"] for r in found})
  lines += [
    "",
    f"{', '.join(map(str, pairs))} pairs per row (the same episodes for every rule at a K); "
    f"{wall / 60:.1f} min on {', '.join(machines)}.",
    "",
    "Command: " + "; ".join(f"`{c}`" for c in commands),
    "",
  ]
  return lines


def plot(found: list, path: str) -> None:
  """Box plots (quartile boxes, 5-95% whiskers) of the cosines, one panel per K and layer."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  found = ordered(found)
  ks = sorted({r["k"] for r in found})
  refs = ("delta", "hebbian", "backprop")
  colours = style.colours(refs)
  fig, axes = plt.subplots(
    len(ks), len(LAYERS), figsize=(6.0 * len(LAYERS), 3.6 * len(ks)), squeeze=False
  )
  for row, k in enumerate(ks):
    at_k = [r for r in found if r["k"] == k]
    for col, name in enumerate(LAYERS):
      ax = axes[row, col]
      width = 0.8 / len(refs)
      for j, ref in enumerate(refs):
        stats, positions = [], []
        for i, r in enumerate(at_k):
          s = r["layers"][name].get(ref, {}).get("cosine", {})
          if s.get("n"):
            quartiles = {"med": s["q50"], "q1": s["q25"], "q3": s["q75"]}
            stats.append(quartiles | {"whislo": s["q5"], "whishi": s["q95"], "fliers": []})
            positions.append(i + (j - (len(refs) - 1) / 2) * width)
        if stats:
          boxes = ax.bxp(
            stats,
            positions=positions,
            widths=width * 0.9,
            patch_artist=True,
            manage_ticks=False,
            medianprops={"color": "black"},
          )
          for box in boxes["boxes"]:
            box.set_facecolor(colours[ref])
          ax.plot([], [], color=colours[ref], linewidth=6, label=ref)
      ax.axhline(0.0, color="grey", linewidth=0.6)
      ax.set_xticks(
        range(len(at_k)), [r["rule"] for r in at_k], rotation=30, ha="right", fontsize=7
      )
      ax.set_ylim(-1.05, 1.05)
      ax.set_ylabel("cosine with the rule's update")
      ax.set_title(f"{LAYER_NAMES[name]}, K = {k}", fontsize=9)
      if row == 0 and col == len(LAYERS) - 1:
        ax.legend(fontsize=7, loc="lower left")
  fig.tight_layout()
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  fig.savefig(path, dpi=110)
  plt.close(fig)


def section(context) -> list[str]:
  found = context.read(RECORDS, KIND)
  if not found:
    return []
  plot(found, context.plot_path(PLOT))
  return markdown(found, context.link(PLOT))


STUDY = Study(
  name="update_alignment",
  run=run,
  section=section,
  validate=validate,
  document="RESULTS.md",
  summary=lambda found, options: markdown(found),
)
