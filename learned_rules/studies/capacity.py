"""Capacity K*(N) by search, for hand-written rules and committed learned rules.

K*(N) is the largest K whose hidden-bit accuracy is at least `threshold` (0.99) with every
smaller K searched also passing: K = 1, 2, 4, ... doubles until a load fails (or K exceeds
`max_load` N), then bisects between the last pass and the first failure. This assumes accuracy
falls with K (true of every rule measured here; a non-monotone rule would be under-reported,
never over-reported, since a failure always ends the search below it).

Every rule is scored on the same episodes at a given (N, K, slots): one evaluation seed per
point, about `eval_hidden_bits` scored hidden bits per point. Layouts:
- 'exact': K patterns in K slots (no blank slots, no quiet start): the stream a memory meets;
- 'trained': K patterns on max(K, the rule's training k_max) slots, the blank slots where the rule
  had them in training (`task.blank_slots`: first, a quiet start, or last, a longer delay): the
  layout a learned rule was trained on (for hand-written rules the same as 'exact' at K >= k_max).

Rules are hand-written names (`hebbian`, `storkey_cued`, ...) or committed rule directories
(`results/rules/<name>`: config.json + meta_params.msgpack, run on a fully connected net of N
neurons, D = N, whatever size they were trained at: "one set of parameters at every N").
Records: one JSON line per evaluated point (kind 'capacity_point'), so a stopped search resumes;
`summary` turns them into K* per (rule, N, layout), with median and range over a rule's seeds.
"""

import collections
import json
import math
import os
import statistics
import time

import jax
from absl import logging

from learned_rules import evaluation, experiment
from learned_rules.common import records as records_io
from learned_rules.common.errors import ConfigError
from learned_rules.studies import style
from learned_rules.studies.base import Study
from learned_rules.train import params_io, saved_rules, sizes

KIND = "capacity_point"
HANDWRITTEN = ("hebbian", "hebbian_cued", "storkey", "storkey_cued", "delta", "delta_cued")
LAYOUTS = ("exact", "trained")
SCAN_TABLES = {64: (1, 2, 4, 8, 12, 16, 20, 24)}  # RESULTS.md: accuracy against K at these N


rule_label, is_committed, seed_group = style.rule_label, style.is_committed, style.seed_group


def base_config(rule: str, bases):
  """(config, 'committed' or None, the training k_max where training had blank slots, or None)
  of a rule name or rule directory; `bases`: today's default configs by task name."""
  if is_committed(rule):
    try:
      config = saved_rules.load_config(rule, bases)
    except ValueError as error:
      raise ConfigError(str(error)) from None
    # Trained with blank slots (K < k_max); not with train.exact_loads (K slots for K patterns).
    exact = bool(sizes.exact_loads(config.train))
    blank_slots = config.task.k_min < config.task.k_max and not exact
    return config, "committed", config.task.k_max if blank_slots else None
  config = bases.remember.copy_and_resolve_references()
  with config.unlocked():
    config.rule.name = rule
  return config, None, None


def point_config(config, n: int, slots: int):
  config = config.copy_and_resolve_references()
  with config.unlocked():
    config.task.pattern_bits = n
    config.topology.name = "fully_connected"
    config.task.k_min, config.task.k_max = 1, slots
    config.eval.k = -1
  return config


def episodes_for(options, n: int, k: int, hidden_fraction: float) -> int:
  hidden = max(1, round(hidden_fraction * n))
  wanted = math.ceil(options.eval_hidden_bits / (k * hidden))
  episodes = min(max(wanted, options.min_episodes), options.max_episodes)
  batch = min(options.batch_size, episodes)
  return -(-episodes // batch) * batch


class Search:
  """Evaluates points on demand, reading and appending the records file (resumable)."""

  def __init__(self, options):
    self.options = options
    self.records = read_records(options.records)
    self.done = {point_id(r): r for r in self.records}
    self._params = {}

  def accuracy(self, rule: str, n: int, k: int, layout: str) -> dict:
    config, params_kind, trained_k = base_config(rule, self.options.bases)
    slots = max(k, trained_k or k) if layout == "trained" else k
    key = (rule_label(rule), n, k, slots)
    if key in self.done:
      return self.done[key]
    config = point_config(config, n, slots)
    exp = experiment.build(config)
    model = exp.model(config.rule.name)
    template = model.init_params(jax.random.PRNGKey(0))
    if params_kind == "committed":
      if rule not in self._params:
        self._params[rule] = params_io.load_params(config.eval.params_file, template)
      params = self._params[rule]
    else:
      params = template  # hand-written: fixed parameters
    episodes = episodes_for(self.options, n, k, config.task.hidden_fraction)
    start = time.time()
    result = evaluation.evaluate(
      model,
      params,
      exp.task,
      seed=self.options.seed + 1000 * n + k,
      num_episodes=episodes,
      batch_size=min(self.options.batch_size, episodes),
      num_synapses=exp.synapses(config.rule.name),
      num_state_floats=exp.state_floats(config.rule.name),
      num_patterns=k,
    )
    record = {
      "kind": KIND,
      "rule": rule_label(rule),
      "source": rule,
      "n": n,
      "k": k,
      "slots": slots,
      "episodes": episodes,
      "hidden_bit_accuracy": result["hidden_bit_accuracy"],
      "bit_accuracy": result["bit_accuracy"],
      "wall_s": time.time() - start,
      "machine": records_io.machine_description(self.options.machine),
    }
    records_io.append(self.options.records, record)
    self.done[key] = record
    self.records.append(record)
    logging.info(
      "capacity %-16s N=%-4d K=%-4d slots=%-4d acc %.4f (%d episodes, %.0f s)",
      record["rule"],
      n,
      k,
      slots,
      record["hidden_bit_accuracy"],
      episodes,
      record["wall_s"],
    )
    print(
      f"{record['rule']:<18} N={n:<4} K={k:<4} slots={slots:<4} "
      f"{record['hidden_bit_accuracy']:.4f}",
      flush=True,
    )
    return record

  def k_star(self, rule: str, n: int, layout: str) -> int:
    """The search: doubling, then bisection; returns K* (0 when K = 1 fails)."""
    passes = lambda k: (
      self.accuracy(rule, n, k, layout)["hidden_bit_accuracy"] >= (self.options.threshold)
    )
    limit = max(1, int(self.options.max_load * n))
    good, bad, k = 0, None, 1
    while k <= limit:
      if passes(k):
        good, k = k, 2 * k
      else:
        bad = k
        break
    if bad is None:  # every doubling up to the limit passed
      if good == limit or passes(limit):
        return limit  # saturated: K* >= limit
      bad = limit
    while bad - good > 1:
      mid = (good + bad) // 2
      if passes(mid):
        good = mid
      else:
        bad = mid
    return good


def point_id(record: dict) -> tuple:
  return (record["rule"], record["n"], record["k"], record["slots"])


def read_records(path: str) -> list:
  return records_io.read(path, KIND)


def validate(options) -> None:
  """Layouts, sizes and rules of the config; a bad rule fails before anything runs."""
  for layout in options.layouts:
    if layout not in LAYOUTS:
      raise ConfigError(f"layouts: {layout!r} is not one of {LAYOUTS}.")
  for n in options.sizes:
    if not isinstance(n, int) or isinstance(n, bool) or n < 2:
      raise ConfigError(f"sizes: {n!r} is not a network size (an integer >= 2).")
  if not 0 < options.threshold <= 1:
    raise ConfigError(f"threshold={options.threshold!r}: a hidden-bit accuracy in (0, 1].")
  for rule in options.rules:
    base_config(rule, options.bases)


def run(options) -> dict:
  """K* for every (rule, N, layout); returns {(label, n, layout): K*}."""
  validate(options)
  search = Search(options)
  found = {}
  for n in options.sizes:
    for rule in options.rules:
      for layout in options.layouts:
        if layout == "trained" and base_config(rule, options.bases)[2] is None:
          continue  # hand-written, or trained without blank slots: 'exact' is its layout
        for k in options.scan:
          if 1 <= k <= max(1, int(options.max_load * n)):
            search.accuracy(rule, n, k, layout)
        found[(rule_label(rule), n, layout)] = search.k_star(rule, n, layout)
  if options.scan:  # a scanned load below K* that fails lowers K* (every smaller K must pass)
    recomputed = k_star_from_records(search.records, options.threshold, options.max_load)
    found = {key: recomputed[key] for key in found}
  return found


def load_table(records: list, n: int, layout: str, loads, rules=None, complete=False) -> str:
  """Markdown: hidden-bit accuracy of every rule in the records at N = n against the given K,
  on one layout ('exact': K slots; 'trained': the rule's training layout, 'exact' where it has
  none), '-' where a point is not in the records."""
  points = {(rule, kind): p for (rule, m, kind), p in points_by_layout(records).items() if m == n}
  wanted = rules
  rules = sorted({rule for rule, _ in points}, key=lambda x: (x in HANDWRITTEN, x))
  if wanted is not None:
    rules = [rule for rule in rules if rule in wanted]
  lines = [
    f"| rule (N = {n}, {layout}) | " + " | ".join(f"K={k}" for k in loads) + " |",
    "|---|" + "---:|" * len(loads),
  ]
  for rule in rules:
    # A rule without blank-slot records was trained on the exact layout: 'exact' is its own.
    own = points.get((rule, layout)) or points.get((rule, "exact"), {})
    if not any(k in own for k in loads) or (complete and not all(k in own for k in loads)):
      continue
    cells = [f"{own[k]:.4f}" if k in own else "-" for k in loads]
    lines.append(f"| {rule} | " + " | ".join(cells) + " |")
  return "\n".join(lines)


# --- summaries -----------------------------------------------------------------------------------
def points_by_layout(records: list) -> dict:
  """{(rule, n, layout): {K: hidden-bit accuracy}}: 'exact' from K-slot points, 'trained' from
  the blank-slot points plus the exact points at K >= the rule's training slots (there its
  training layout has no blank slots)."""
  table = collections.defaultdict(dict)
  trained_slots = {}
  for r in records:
    layout = "exact" if r["slots"] == r["k"] else "trained"
    table[(r["rule"], r["n"], layout)][r["k"]] = r["hidden_bit_accuracy"]
    if layout == "trained":
      trained_slots[r["rule"]] = max(trained_slots.get(r["rule"], 0), r["slots"])
  for (rule, n, layout), points in list(table.items()):
    if layout == "trained":
      for k, acc in table.get((rule, n, "exact"), {}).items():
        if k >= trained_slots[rule]:
          points.setdefault(k, acc)
  return dict(table)


def k_star_from_records(records: list, threshold: float, max_load: float) -> dict:
  """{(rule, n, layout): K*} recomputed from the records alone (the search's own rule)."""
  table = points_by_layout(records)
  out = {}
  for key, points in table.items():
    best = 0
    for k in sorted(points):
      if points[k] >= threshold:
        best = k
      else:
        break
    out[key] = best
  return out


def summary(records: list, threshold: float = 0.99, max_load: float = 0.6) -> list[dict]:
  """Rows (rule group, layout, n, K* median, min, max, seeds) with median/range over seeds."""
  k_stars = k_star_from_records(records, threshold, max_load)
  groups = collections.defaultdict(list)
  for (rule, n, layout), k in k_stars.items():
    groups[(seed_group(rule), layout, n)].append((rule, k))
  rows = []
  for (group, layout, n), values in sorted(groups.items()):
    ks = [k for _, k in values]
    rows.append(
      {
        "rule": group,
        "layout": layout,
        "n": n,
        "median": statistics.median(ks),
        "min": min(ks),
        "max": max(ks),
        "seeds": len(ks),
      }
    )
  return rows


def _cell(row) -> str:
  if row["seeds"] == 1:
    return str(row["min"])
  return f"{row['median']:g} ({row['min']}–{row['max']})"


def _saved_configs(records: list, root: str = ".") -> dict:
  """{rule group: the saved config.json} of committed rules whose directory is at hand."""
  repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  out = {}
  for r in records:
    source = r.get("source", "")
    if not is_committed(source):
      continue
    for base in (root, repo):  # rule directories are repo-relative (results/rules/<name>)
      path = os.path.join(base, source, "config.json")
      if os.path.exists(path):
        with open(path) as f:
          out[seed_group(r["rule"])] = json.load(f)
        break
  return out


def trained_sizes(records: list, root: str = ".") -> dict:
  """{rule group: set of N it was trained at} for committed rules whose directory is at hand
  (`task.pattern_bits` and any `train.extra_sizes`)."""
  return {
    group: {config["task"]["pattern_bits"], *sizes.extra_sizes(config.get("train", {}))}
    for group, config in _saved_configs(records, root).items()
  }


# Numbers each hand-written rule keeps per synapse: its weight (tests check the engine agrees).
HANDWRITTEN_STATE_SIZE = dict.fromkeys(HANDWRITTEN, 1)


def state_sizes(records: list, root: str = ".") -> dict:
  """{rule group: numbers kept per synapse}: `rule.synapse_state_size` of a committed rule whose
  config.json states it, 1 for the hand-written ones; a rule not here gets no row."""
  out = dict(HANDWRITTEN_STATE_SIZE)
  for group, config in _saved_configs(records, root).items():
    if "synapse_state_size" in config.get("rule", {}):
      out[group] = config["rule"]["synapse_state_size"]
  return out


def bits_per_state_number(k_star: float, n: int, state_size: int) -> float:
  """Pattern bits stored at K* per synapse state number: K* N / (N (N - 1) d_w) on a fully
  connected net of N = D neurons (each stored pattern counted as its N bits, recalled at the
  threshold accuracy)."""
  return k_star * n / (n * (n - 1) * state_size)


def _bits_markdown(rows: list, state_size: dict) -> list[str]:
  exact = [r for r in rows if r["layout"] == "exact" and r["rule"] in state_size]
  if not exact:
    return []
  ns = sorted({r["n"] for r in exact})
  lookup = {(r["rule"], r["n"]): r for r in exact}
  keys = sorted({r["rule"] for r in exact}, key=lambda x: (x in HANDWRITTEN, x))
  lines = [
    "Bits stored per synapse state number at K* (layout 'exact'): K* N pattern bits over "
    "N (N - 1) synapses of d_w numbers each (d_w = `rule.synapse_state_size` for learned rules, "
    "1 for the hand-written ones, which keep one weight), from the median K*. It separates a "
    "better rule from a bigger memory: a learned rule with four numbers per synapse must store "
    "four times Storkey's K* to match it per number.",
    "",
    "| rule | d_w | " + " | ".join(f"N={n}" for n in ns) + " |",
    "|---|---:|" + "---:|" * len(ns),
  ]
  for rule in keys:
    cells = []
    for n in ns:
      row = lookup.get((rule, n))
      cells.append(
        "-" if row is None else f"{bits_per_state_number(row['median'], n, state_size[rule]):.3f}"
      )
    lines.append(f"| {rule} | {state_size[rule]} | " + " | ".join(cells) + " |")
  return lines


def best_per_size(rows: list, sizes_trained: dict, reference: str = "storkey_cued") -> list[dict]:
  """Per (N, layout): the best learned rule trained at that N, the best learned rule from any
  training size (one set of parameters run at every N), and the reference rule's K*."""
  learned = [r for r in rows if r["rule"] not in HANDWRITTEN]
  ref = {r["n"]: r for r in rows if r["rule"] == reference and r["layout"] == "exact"}
  pick = lambda rs: max(rs, key=lambda r: (r["median"], r["seeds"], r["rule"])) if rs else None
  out = []
  blank_trained = {r["rule"] for r in learned if r["layout"] == "trained"}
  for n in sorted({r["n"] for r in learned}):
    for layout in LAYOUTS:
      # A rule trained without blank slots has its training layout in 'exact'.
      here = [
        r
        for r in learned
        if r["n"] == n
        and (r["layout"] == layout or (layout == "trained" and r["rule"] not in blank_trained))
      ]
      if not here:
        continue
      own = pick([r for r in here if n in sizes_trained.get(r["rule"], ())])
      out.append({"n": n, "layout": layout, "own": own, "any": pick(here), "ref": ref.get(n)})
  return out


def _best_markdown(table: list, reference: str) -> list[str]:
  def cell(row):
    if not row:
      return "-"
    seeds = "1 seed" if row["seeds"] == 1 else f"{row['seeds']} seeds"
    return f"{_cell(row)} `{row['rule']}`, {seeds}"

  def ratio(row, ref):
    return f"{row['median'] / ref['median']:.2f}" if row and ref and ref["median"] else "-"

  lines = [
    "Best learned rule per size, on the no-blank layout ('exact') and on each rule's own training "
    "layout ('trained'; 'exact' for rules trained without blank slots): trained at that N (a "
    "per-size rule), and from any "
    f"training size (one set of parameters run at every N), next to {reference} (exact layout); "
    "ratio = learned K* (median) / reference K*.",
    "",
    f"| N | layout | trained at this N | ratio | any training size | ratio | {reference} |",
    "|---:|---|---|---:|---|---:|---:|",
  ]
  for t in table:
    ref = t["ref"]
    lines.append(
      f"| {t['n']} | {t['layout']} | {cell(t['own'])} | {ratio(t['own'], ref)} | "
      f"{cell(t['any'])} | {ratio(t['any'], ref)} | {_cell(ref) if ref else '-'} |"
    )
  return lines


def markdown(
  records: list,
  plot_path: str = "",
  threshold: float = 0.99,
  sizes_trained: dict | None = None,
  state_size: dict | None = None,
) -> str:
  rows = summary(records, threshold)
  if not rows:
    return ""
  sizes = sorted({r["n"] for r in rows})
  keys = sorted({(r["rule"], r["layout"]) for r in rows}, key=lambda x: (x[0] in HANDWRITTEN, x))
  lookup = {(r["rule"], r["layout"], r["n"]): r for r in rows}
  lines = [
    f"## Capacity against size: K* at hidden-bit accuracy >= {threshold}, searched",
    "",
    "Fully connected, N = D neurons, half of each cue hidden. K* is the largest K whose hidden-bit "
    "accuracy is at least the threshold with every smaller searched K passing (K doubled from 1, "
    "then bisected), every rule on the same episodes per (N, K). Layout 'exact': K patterns in "
    "K slots (no quiet start, no extra delay); 'trained': on max(K, training k_max) slots, the "
    "blank slots first (a quiet start) or last (a longer delay) as in the rule's training. "
    "Learned rules (committed under results/rules/) run with one set of parameters at every N; "
    "several seeds show median (min–max). The plot: K*/N against N, median with the seed range "
    "as error bars; left the cue-weighted hand-written rules and the learned rules with three or "
    "more seeds on the 'exact' layout, right the rest; dashed lines the spec's reference "
    "capacities.",
    "",
  ]
  if plot_path:
    lines += [f"![capacity against size]({plot_path})", ""]
  lines.append("| rule | layout | " + " | ".join(f"N={n}" for n in sizes) + " |")
  lines.append("|---|---|" + "---:|" * len(sizes))
  for rule, layout in keys:
    cells = [
      _cell(lookup[(rule, layout, n)]) if (rule, layout, n) in lookup else "-" for n in sizes
    ]
    lines.append(f"| {rule} | {layout} | " + " | ".join(cells) + " |")
  if sizes_trained is not None:
    lines += [""] + _best_markdown(best_per_size(rows, sizes_trained), "storkey_cued")
  if state_size is not None:
    bits = _bits_markdown(rows, state_size)
    lines += [""] + bits if bits else []
  for n, loads in SCAN_TABLES.items():
    for layout in LAYOUTS:
      table = load_table(records, n, layout, loads, complete=True)
      if table.count("\n") > 1:  # a row beyond the header
        lines += [
          "",
          f"Hidden-bit accuracy against K at N = {n}, layout '{layout}' (rules with every load "
          f"evaluated: `python -m experiments.study --config=configs/studies/capacity.py "
          f'"--config.sizes=({n},)" "--config.scan=({",".join(map(str, loads))},)" ...`):',
          "",
          table,
        ]
  zero = sorted({(r["rule"], r["layout"]) for r in rows if r["min"] == 0})
  if zero:
    lines += [
      "",
      "K* = 0: already one pattern falls below the threshold. Hidden-bit accuracy at K = 1 "
      "(median over seeds) where that happens:",
      "",
      "| rule | layout | " + " | ".join(f"N={n}" for n in sizes) + " |",
      "|---|---|" + "---:|" * len(sizes),
    ]
    for rule, layout in zero:
      cells = []
      for n in sizes:
        accs = [
          r["hidden_bit_accuracy"]
          for r in records
          if seed_group(r["rule"]) == rule
          and r["n"] == n
          and r["k"] == 1
          and (r["slots"] == 1) == (layout == "exact")
        ]
        cells.append(f"{statistics.median(accs):.3f}" if accs else "-")
      lines.append(f"| {rule} | {layout} | " + " | ".join(cells) + " |")
  wall = sum(r["wall_s"] for r in records)
  machines = sorted({r["machine"] for r in records})
  lines += [
    "",
    f"{len(records)} evaluated points, {wall / 60:.1f} min of evaluation on {', '.join(machines)}.",
    "Command: `python -m experiments.study --config=configs/studies/capacity.py` (the "
    "hand-written rules and the headline rule), `... --config.rules=results/rules/<name>,... "
    "--config.layouts=exact,trained` for others.",
    "",
  ]
  return "\n".join(lines)


def _plot_panel(ax, series: list, ns: list, threshold: float, title: str) -> None:
  """One K*/N-against-N panel: each (rule, layout) series in its own colour, references dashed."""
  colour = style.colours(key for key, _ in series)
  for (rule, layout), values in series:
    values = sorted(values, key=lambda r: r["n"])
    seeds = max(r["seeds"] for r in values)
    ax.errorbar(
      [r["n"] for r in values],
      [r["median"] / r["n"] for r in values],
      yerr=[
        [(r["median"] - r["min"]) / r["n"] for r in values],
        [(r["max"] - r["median"]) / r["n"] for r in values],
      ],
      fmt=("s" if rule in HANDWRITTEN else "o") + ("-" if layout == "exact" else ":"),
      ms=4,
      capsize=3,
      color=colour[(rule, layout)],
      lw=1.5 if rule in HANDWRITTEN else 2,
      label=f"{rule} ({layout})" + (f", {seeds} seeds" if seeds > 1 else ""),
    )
  for name in ("Hopfield 0.138 N (approx.)", "Hebbian exact N/(4 ln N)", "Storkey N/sqrt(2 ln N)"):
    ax.plot(ns, [style.reference_capacities(n)[name] / n for n in ns], "k--", lw=0.6, alpha=0.6)
    ax.annotate(name, (ns[-1], style.reference_capacities(ns[-1])[name] / ns[-1]), fontsize=6)
  ax.set_xscale("log", base=2)
  ax.set_xticks(ns, [str(n) for n in ns])
  ax.set_xlabel("N neurons (fully connected)")
  ax.set_ylabel(f"K*/N (hidden-bit accuracy >= {threshold})")
  ax.set_title(title, fontsize=9)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def plot_panels(rows: list) -> tuple[list, list]:
  """Split summary rows into the plot's two panels, each a sorted list of ((rule, layout), rows).

  Left: cue-weighted hand-written rules and learned rules with three or more seeds on the
  no-blank layout; right: everything else.
  """
  series = collections.defaultdict(list)
  for r in rows:
    series[(r["rule"], r["layout"])].append(r)

  def left(key) -> bool:
    rule, layout = key
    if rule in HANDWRITTEN:
      return rule.endswith("_cued")
    return layout == "exact" and max(r["seeds"] for r in series[key]) >= 3

  items = sorted(series.items())
  return [i for i in items if left(i[0])], [i for i in items if not left(i[0])]


def plot(records: list, path: str, threshold: float = 0.99) -> None:
  """K*/N against N per rule (median, seed range as error bars), with the spec's references.

  Left: the cue-weighted hand-written rules and every learned rule with three or more seeds on
  the no-blank layout (the results); right: the rest (single seeds, training layouts, plain rules).
  """
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  rows = summary(records, threshold)
  left, right = plot_panels(rows)
  ns = sorted({r["n"] for r in rows}) or [16, 256]
  panels = [p for p in (left, right) if p] or [[]]
  fig, axes = plt.subplots(1, len(panels), figsize=(7.5 * len(panels), 4.8), squeeze=False)
  titles = (
    ["cue-weighted hand-written rules; learned rules with >= 3 seeds (no blank slots)", "the rest"]
    if left and right
    else ["K* against N"]
  )
  for ax, panel, title in zip(axes[0], panels, titles, strict=True):
    _plot_panel(ax, panel, ns, threshold, title)
  fig.tight_layout()
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  fig.savefig(path, dpi=110)
  plt.close(fig)


def section(context) -> list[str]:
  """RESULTS.md: K*(N) per rule, the best per size, the scans and the plot."""
  found = context.read("capacity.jsonl", KIND)
  if not found:
    return []
  plot(found, context.plot_path("capacity_search.png"))
  sizes_trained = trained_sizes(found, context.root)
  state_size = state_sizes(found, context.root)
  text = markdown(found, context.link("capacity_search.png"), 0.99, sizes_trained, state_size)
  return text.split("\n")


def summary_lines(found: dict, options) -> list[str]:
  lines = [
    f"K* {rule:<18} {layout:<8} N={n:<4} {k:>4}  K*/N {k / n:.3f}"
    for (rule, n, layout), k in found.items()
  ]
  if options.scan:
    found_records = read_records(options.records)
    labels = {rule_label(rule) for rule in options.rules}
    for n in options.sizes:
      for layout in options.layouts:
        lines += ["", load_table(found_records, n, layout, options.scan, labels)]
  return lines


STUDY = Study(name="capacity", run=run, section=section, validate=validate, summary=summary_lines)
