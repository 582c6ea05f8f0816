r"""The sweep's section of RESULTS.md and its PNG plots, from the sweep records; nothing is rerun.

Every figure's paragraph states the sweep command that produced its records, the machine written
in them, and the summed wall time of those records (evaluation, plus meta-training where a rule
was trained). Records of either spelling of a cue-weighted rule count as cue-weighted: today's
rule 'X_cued', or (records written before it was registered) rule 'X' with a
'rule.free_weight=...' variant. Records are labelled in today's spelling (`grid.canonical`), so
points of one rule recorded in both spellings form one series.
"""

import collections
import glob
import json
import os

from learned_rules import probes
from learned_rules.studies import style
from learned_rules.studies import sweep_grid as grid

THRESHOLD = 0.99  # the spec's capacity criterion on hidden-bit accuracy
APPROX_THRESHOLD = 0.985  # Hopfield-style approximate recall: about 1.5% bit errors at the limit
DEFAULT_CUE, DEFAULT_DELAY = 0.5, 2  # the table and capacity plots use these task settings
CUED = "free_weight"  # legacy spelling: variants of the hand-written rules with cue-weighted recall
CUED_SUFFIX = "_cued"  # today's spelling: the registered rule 'X_cued'
RULE_ORDER = ("hebbian", "storkey", "delta", "learned", "frozen", "lstm")
HANDWRITTEN = ("hebbian", "storkey", "delta")  # with their cued forms: the baselines of a target


SWEEP_KINDS = ("eval", "train")  # records of the sweep study; other studies have their own kinds


def load_records(records_dir: str) -> tuple[list, list]:
  evals, trains = [], []
  for path in sorted(glob.glob(os.path.join(records_dir, "*.jsonl"))):
    sweep = os.path.splitext(os.path.basename(path))[0]
    with open(path) as f:
      for line in f:
        line = line.strip()
        if not line:
          continue
        record = json.loads(line)
        if record.get("kind") not in SWEEP_KINDS:
          continue  # not a sweep point (the Hopfield reference, recipes, comparisons)
        record["sweep"] = sweep
        if record.get("kind") == "train":
          trains.append(record)
        else:  # legacy 'X' + 'rule.free_weight=w' spelled as today's 'X_cued'
          evals.append(grid.canonical(record))
  return evals, trains


def label(record: dict) -> str:
  name = record["rule"]
  if record.get("variant"):
    name += f" [{record['variant']}]"
  train = record.get("train")
  if train and (train["topology"] != record["topology"] or train["size"] != record["size"]):
    name += f" (trained {train['topology']} D={train['size']})"
  return name


def series(evals: list) -> dict:
  """(label, topology, D, cue, delay) -> {K: record}, the last record winning on duplicates."""
  out = collections.defaultdict(dict)
  for r in evals:
    key = (label(r), r["topology"], r["size"], r["hidden_fraction"], r["delay"])
    out[key][r["k"]] = r
  return out


def capacity(points: dict, threshold: float):
  """Largest measured K before the first K whose hidden-bit accuracy is below `threshold`.

  Returns (K*, record at K*) or (0, None) when the smallest measured K already fails; K* is
  bounded by the grid (the largest K measured, if none fails: reported with '>=').
  """
  best, best_record = 0, None
  for k in sorted(points):
    if points[k]["hidden_bit_accuracy"] >= threshold:
      best, best_record = k, points[k]
    else:
      break
  return best, best_record


def _fmt(value, digits=3):
  if value is None:
    return "-"
  if isinstance(value, float):
    return f"{value:.{digits}f}"
  return str(value)


def cue_weighted(name: str, rule: str) -> bool:
  """Whether the series label `name` is rule `rule` with cue-weighted recall (either spelling)."""
  if name.split(" ")[0] == rule + CUED_SUFFIX:
    return True
  return name.startswith(rule + " [") and CUED in name


def without_neurons(record: dict) -> bool:
  """A model without neurons (the LSTM): its variants say how it is sized, not ablations."""
  return record.get("num_neurons") == 0


def _rule_rank(name: str):
  base = name.split(" ")[0].removesuffix(CUED_SUFFIX)
  return (RULE_ORDER.index(base) if base in RULE_ORDER else 99, name)


def capacity_rows(evals: list) -> list[dict]:
  rows = []
  for (name, topo, size, cue, delay), points in series(evals).items():
    if cue != DEFAULT_CUE or delay != DEFAULT_DELAY:
      continue
    k_star, record = capacity(points, THRESHOLD)
    k_approx, _ = capacity(points, APPROX_THRESHOLD)
    saturated = k_star == max(points)
    any_record = next(iter(points.values()))
    rows.append(
      {
        "rule": name,
        "topology": topo,
        "D": size,
        "N": any_record["num_neurons"],
        "K_grid": f"{min(points)}..{max(points)} ({len(points)} pts)",
        "K*": (">=" if saturated else "") + str(k_star)
        if k_star or min(points) == 1
        else f"<{min(points)}",
        "K*_value": k_star,
        "K*/D": k_star / size,
        "K*_0.985": (">=" if k_approx == max(points) else "") + str(k_approx),
        "bits/synapse": record["bits_per_synapse"] if record else None,
        "bits/state float": record["bits_per_state_float"] if record else None,
        "oracle acc at K*": record["oracle_hidden_bit_accuracy"] if record else None,
      }
    )
  rows.sort(key=lambda r: (r["topology"], r["D"], _rule_rank(r["rule"])))
  hebbian = {(r["topology"], r["D"]): r["K*_value"] for r in rows if r["rule"] == "hebbian"}
  cued = {
    (r["topology"], r["D"]): r["K*_value"] for r in rows if cue_weighted(r["rule"], "hebbian")
  }
  strongest = {}  # (topology, D) -> (K*, 'rule, rule'): the best hand-written rules, plain or cued
  for r in rows:
    if r["rule"].removesuffix(CUED_SUFFIX) in HANDWRITTEN:
      key = (r["topology"], r["D"])
      best, names = strongest.get(key, (-1, ""))
      if r["K*_value"] > best:
        strongest[key] = (r["K*_value"], r["rule"])
      elif r["K*_value"] == best:
        strongest[key] = (best, f"{names}, {r['rule']}")
  for r in rows:
    r["strongest hand-written"] = strongest.get((r["topology"], r["D"]))
    base = hebbian.get((r["topology"], r["D"]))
    r["hebbian_K*"] = base
    r["K* / Hebbian K*"] = (r["K*_value"] / base) if base else None
    base = cued.get((r["topology"], r["D"]))
    r["K* / cued Hebbian K*"] = (r["K*_value"] / base) if base else None
  return rows


def markdown_table(rows: list[dict], columns: list[str]) -> str:
  lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
  for r in rows:
    lines.append("| " + " | ".join(_fmt(r.get(c)) for c in columns) + " |")
  return "\n".join(lines)


def provenance(records: list, trains: list = ()) -> str:
  commands = sorted({r["command"] for r in records} | {t["command"] for t in trains})
  machines = sorted({r["machine"] for r in records} | {t["machine"] for t in trains})
  eval_s = sum(r.get("wall_s", 0.0) for r in records)
  train_s = sum(t.get("wall_s", 0.0) for t in trains)
  lines = ["Commands: " + "; ".join(f"`{c}`" for c in commands) if commands else "Commands: -"]
  lines.append(f"Machine: {', '.join(machines) or '-'}.")
  wall = f"Wall time: {eval_s:.0f} s of evaluation over {len(records)} records"
  if trains:
    wall += f", plus {train_s:.0f} s meta-training ({len(trains)} rules)"
  lines.append(wall + ".")
  return "  \n".join(lines)


def _plt():
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  return plt


def plot_recall_vs_load(evals, path, topology="fully_connected", title=""):
  """Hidden-bit accuracy against alpha = K/D, one panel per D, with reference capacities."""
  plt = _plt()
  plain = [r for r in evals if not r.get("variant") or without_neurons(r) or CUED in r["variant"]]
  groups = {k: v for k, v in series(plain).items() if k[1] == topology}
  groups = {k: v for k, v in groups.items() if k[3] == DEFAULT_CUE and k[4] == DEFAULT_DELAY}
  sizes = sorted({k[2] for k in groups})
  if not sizes:
    return []
  fig, axes = plt.subplots(1, len(sizes), figsize=(4.2 * len(sizes), 3.8), squeeze=False)
  used = []
  for ax, size in zip(axes[0], sizes, strict=True):
    for key in sorted((k for k in groups if k[2] == size), key=lambda k: _rule_rank(k[0])):
      points = groups[key]
      ks = sorted(points)
      ax.plot(
        [k / size for k in ks],
        [points[k]["hidden_bit_accuracy"] for k in ks],
        "o-",
        ms=3,
        label=key[0],
      )
      used += list(points.values())
    oracle = {}
    for key in groups:
      if key[2] == size:
        for k, r in groups[key].items():
          oracle[k] = r["oracle_hidden_bit_accuracy"]
    ks = sorted(oracle)
    ax.plot([k / size for k in ks], [oracle[k] for k in ks], "k:", label="oracle")
    for name, cap in style.reference_capacities(size).items():
      if cap / size <= 0.55:
        ax.axvline(cap / size, ls="--", lw=0.8, color="C7")
        ax.text(cap / size, 0.52, name, rotation=90, fontsize=6, va="bottom")
    _finish_load_axes(ax, f"{title} D={size}")
  _save(plt, fig, path)
  return used


def _finish_load_axes(ax, title: str) -> None:
  """Shared look of a recall-against-load panel: the 0.99 line, labels, range, legend."""
  ax.axhline(THRESHOLD, color="gray", lw=0.8)
  ax.set_title(title)
  ax.set_xlabel("load alpha = K / D")
  ax.set_ylabel("hidden-bit accuracy")
  ax.set_ylim(0.45, 1.01)
  ax.legend(fontsize=6)


def _save(plt, fig, path) -> None:
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def plot_variants(evals, path):
  """One panel per (rule, topology, D) that has variants: the base series next to each variant."""
  plt = _plt()
  default = [
    r
    for r in evals
    if r["hidden_fraction"] == DEFAULT_CUE
    and r["delay"] == DEFAULT_DELAY
    and not without_neurons(r)
    and not (r.get("train") and r["train"]["size"] != r["size"])
  ]
  with_variants = sorted({(r["rule"], r["topology"], r["size"]) for r in default if r["variant"]})
  if not with_variants:
    return []
  columns = min(4, len(with_variants))
  rows = -(-len(with_variants) // columns)
  fig, axes = plt.subplots(rows, columns, figsize=(4.8 * columns, 4.0 * rows), squeeze=False)
  for ax in axes.flat[len(with_variants) :]:
    ax.set_visible(False)
  used = []
  for ax, (rule, topo, size) in zip(axes.flat, with_variants, strict=False):
    lines = collections.defaultdict(dict)
    for r in default:
      if (r["rule"], r["topology"], r["size"]) == (rule, topo, size):
        lines[r["variant"] or "base"][r["k"]] = r
    for name in sorted(lines, key=lambda n: (n != "base", n)):
      points = lines[name]
      ks = sorted(points)
      ax.plot(
        [k / size for k in ks],
        [points[k]["hidden_bit_accuracy"] for k in ks],
        "o-",
        ms=3,
        label=name,
      )
      used += list(points.values())
    _finish_load_axes(ax, f"{rule}, {topo}, D={size}")
  _save(plt, fig, path)
  return used


def plot_capacity_vs_size(rows, path):
  plt = _plt()
  fig, ax = plt.subplots(figsize=(6.5, 4.5))
  by_rule = collections.defaultdict(list)
  for r in rows:
    by_rule[(r["rule"], r["topology"])].append((r["N"], r["K*_value"]))
  for (name, topo), values in sorted(by_rule.items(), key=lambda kv: _rule_rank(kv[0][0])):
    if "(trained" in name and topo != "fully_connected":
      continue
    values.sort()
    ax.plot(
      [v[0] for v in values], [max(v[1], 0.5) for v in values], "o-", ms=4, label=f"{name}, {topo}"
    )
  ns = [8, 16, 32, 64, 128, 256]
  for name, _ in style.reference_capacities(16).items():
    ax.plot(ns, [style.reference_capacities(n)[name] for n in ns], "--", lw=0.8, label=name)
  ax.set_xscale("log", base=2)
  ax.set_yscale("log", base=2)
  ax.set_xlabel("N neurons")
  ax.set_ylabel(f"K* (hidden-bit accuracy >= {THRESHOLD}; 0 drawn at 0.5)")
  ax.legend(fontsize=6, ncol=2)
  _save(plt, fig, path)


def probe_fractions(record: dict) -> tuple[float, float]:
  """(in synapses, in neurons) from the probe's accuracies, information pooled over episodes."""
  probe = record["probe"]
  info = {
    c: probes.pooled_information(probe[c]["hidden_bit_accuracy"], record["k"], record["size"])
    for c in ("intact", "reset_neurons", "reset_synapses")
  }
  return probes.information_fractions(info["intact"], info["reset_neurons"], info["reset_synapses"])


def _nan_if_none(value):
  return float("nan") if value is None else value


def plot_memory_location(evals, path):
  plt = _plt()
  probed = [r for r in evals if r.get("probe")]
  if not probed:
    return []
  probed.sort(key=lambda r: (_rule_rank(label(r)), r["topology"], r["size"], r["k"]))
  names = [f"{label(r)}\n{r['topology'][:6]} D={r['size']} K={r['k']}" for r in probed]
  fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(probed)), 4.5))
  xs = range(len(probed))
  ax.bar(
    [x - 0.2 for x in xs],
    [_nan_if_none(probe_fractions(r)[0]) for r in probed],
    0.4,
    label="synapses (information left after neuron reset)",
  )
  ax.bar(
    [x + 0.2 for x in xs],
    [_nan_if_none(probe_fractions(r)[1]) for r in probed],
    0.4,
    label="neurons (information left after synapse reset)",
  )
  ax.set_xticks(list(xs))
  ax.set_xticklabels(names, rotation=90, fontsize=6)
  ax.set_ylabel("fraction of stored information")
  ax.legend(fontsize=7)
  _save(plt, fig, path)
  return probed


def plot_difficulty(evals, path, axis):
  """Accuracy against cue fraction ('hidden_fraction') or delay, one line per rule and K."""
  plt = _plt()
  sizes = sorted({r["size"] for r in evals})
  other = "delay" if axis == "hidden_fraction" else "hidden_fraction"
  default_other = DEFAULT_DELAY if axis == "hidden_fraction" else DEFAULT_CUE
  lines = collections.defaultdict(dict)
  for r in evals:
    if r[other] == default_other and r["topology"] == "fully_connected":
      lines[(label(r), r["size"], r["k"])][r[axis]] = r
  lines = {k: v for k, v in lines.items() if len(v) >= 2}
  if not lines:
    return []
  fig, ax = plt.subplots(figsize=(6.5, 4.2))
  used = []
  for key in sorted(lines, key=lambda k: (_rule_rank(k[0]), k[1], k[2])):
    values = lines[key]
    xs = sorted(values)
    ax.plot(
      xs,
      [values[x]["hidden_bit_accuracy"] for x in xs],
      "o-",
      ms=3,
      label=f"{key[0]} D={key[1]} K={key[2]}",
    )
    used += list(values.values())
  ax.axhline(THRESHOLD, color="gray", lw=0.8)
  ax.set_xlabel({"hidden_fraction": "cue fraction hidden c", "delay": "delay Q (steps)"}[axis])
  ax.set_ylabel("hidden-bit accuracy")
  ax.legend(fontsize=6)
  del sizes
  _save(plt, fig, path)
  return used


def plot_training(trains, path):
  plt = _plt()
  if not trains:
    return
  fig, ax = plt.subplots(figsize=(6.5, 4.2))
  for t in trains:
    history = t.get("history") or []
    spec = t["train"]
    name = spec["rule"] + (f" [{spec['variant']}]" if spec["variant"] else "")
    name += f" {spec['topology']} D={spec['size']}"
    ax.plot(
      [h["seconds"] for h in history], [h["hidden_bit_accuracy"] for h in history], label=name, lw=1
    )
  ax.set_xlabel("wall seconds")
  ax.set_ylabel("training hidden-bit accuracy (batch)")
  ax.legend(fontsize=6)
  _save(plt, fig, path)


def trains_for(records, trains):
  keys = {json.dumps(r["train"], sort_keys=True) for r in records if r.get("train")}
  return [t for t in trains if json.dumps(t["train"], sort_keys=True) in keys]


def section(context) -> list[str]:
  """The sweep's RESULTS.md lines (and plots) from the records of kinds 'eval' and 'train'."""
  evals, trains = load_records(context.records_dir)
  if not evals:
    return []
  rel_plot, plot_path = context.link, context.plot_path
  md = [
    "## Rule sweeps: every rule on the same grid of sizes, loads and task settings",
    "",
    "Records of `python -m experiments.study --config=configs/studies/sweep_handwritten.py` and "
    "`--config=configs/studies/sweep_learned.py` (one point per rule, topology, size and load). "
    f"Capacity K* is the largest K on the grid before the first K whose hidden-bit accuracy is "
    f"below {THRESHOLD} (the spec's criterion); K*_0.985 uses the Hopfield-style approximate "
    f"criterion (about 1.5% bit errors). '>=' means the grid's largest K still passed. Task "
    f"unless stated: auto-association, half the cue bits hidden (c = {DEFAULT_CUE}), P = 2 store "
    f"steps, G = 1, delay Q = {DEFAULT_DELAY}, 3 recall steps. D = visible bits; N = neurons.",
    "",
  ]
  rows = capacity_rows(evals)
  targets = [r for r in rows if r["rule"] == "learned" and r["K* / Hebbian K*"] is not None]
  if targets:
    md += ["## Target: learned K* >= 3x Hebbian K* on the same N (P = 2 store steps)", ""]
    for r in targets:
      verdict = "reached" if r["K* / Hebbian K*"] >= 3 else "not reached"
      line = (
        f"- {r['topology']}, D = {r['D']}: learned K* = {r['K*']}, Hebbian K* = "
        f"{r['hebbian_K*']}, ratio {r['K* / Hebbian K*']:.2f}: "
        f"{verdict}"
      )
      if r["K* / cued Hebbian K*"] is not None:
        line += f"; against the cue-weighted Hebbian rule: ratio {r['K* / cued Hebbian K*']:.2f}"
      line += "."
      if r["strongest hand-written"] and r["strongest hand-written"][0] > 0:
        k_best, best = r["strongest hand-written"]
        line += (
          f" Against the strongest hand-written rule here ({best}: K* = {k_best}): ratio "
          f"{r['K*_value'] / k_best:.2f}."
        )
      md.append(line)
    md.append("")
  if rows:
    md += ["## Capacity table", ""]
    columns = [
      "rule",
      "topology",
      "D",
      "N",
      "K_grid",
      "K*",
      "K*/D",
      "K*_0.985",
      "K* / Hebbian K*",
      "K* / cued Hebbian K*",
      "bits/synapse",
      "bits/state float",
      "oracle acc at K*",
    ]
    md += [markdown_table(rows, columns), ""]
    default = [
      r for r in evals if r["hidden_fraction"] == DEFAULT_CUE and r["delay"] == DEFAULT_DELAY
    ]
    md += [provenance(default, trains_for(default, trains)), ""]
    plot_capacity_vs_size(rows, plot_path("capacity_vs_size.png"))
    md += [
      "## Capacity against size, with the spec's reference capacities",
      "",
      f"![capacity]({rel_plot('capacity_vs_size.png')})",
      "",
      provenance(default, trains_for(default, trains)),
      "",
    ]
  for topo in ("fully_connected", "sparse", "layered"):
    name = f"recall_vs_load_{topo}.png"
    used = plot_recall_vs_load(evals, plot_path(name), topo, topo)
    if used:
      md += [
        f"## Recall against load: {topo}",
        "",
        f"![{topo}]({rel_plot(name)})",
        "",
        provenance(used, trains_for(used, trains)),
        "",
      ]
  used = plot_variants(evals, plot_path("variants.png"))
  if used:
    md += [
      "## Ablations and variants (same rule, one change each)",
      "",
      f"![variants]({rel_plot('variants.png')})",
      "",
      provenance(used, trains_for(used, trains)),
      "",
    ]
  probed = plot_memory_location(evals, plot_path("memory_location.png"))
  if probed:
    md += [
      "## Where memory lives",
      "",
      "After the store phase the synapse states are replaced by a fresh episode-start "
      "sample (or the neuron states reset to zero); the fraction is the stored information "
      "left, relative to the intact network.",
      "",
      f"![memory]({rel_plot('memory_location.png')})",
      "",
    ]
    probe_rows = []
    for r in probed:
      p = r["probe"]
      probe_rows.append(
        {
          "rule": label(r),
          "topology": r["topology"],
          "D": r["size"],
          "K": r["k"],
          "acc intact": p["intact"]["hidden_bit_accuracy"],
          "acc synapses reset": p["reset_synapses"]["hidden_bit_accuracy"],
          "acc neurons reset": p["reset_neurons"]["hidden_bit_accuracy"],
          "acc both reset": p["reset_both"]["hidden_bit_accuracy"],
          "in synapses": probe_fractions(r)[0],
          "in neurons": probe_fractions(r)[1],
        }
      )
    md += [
      markdown_table(probe_rows, list(probe_rows[0])),
      "",
      provenance(probed, trains_for(probed, trains)),
      "",
    ]
  for axis, title in (("hidden_fraction", "cue fraction"), ("delay", "delay")):
    name = f"difficulty_{axis}.png"
    used = plot_difficulty(evals, plot_path(name), axis)
    if used:
      md += [
        f"## Difficulty: {title}",
        "",
        f"![{axis}]({rel_plot(name)})",
        "",
        provenance(used, trains_for(used, trains)),
        "",
      ]
  if trains:
    plot_training(trains, plot_path("training.png"))
    md += ["## Meta-training", "", f"![training]({rel_plot('training.png')})", ""]
    train_rows = [
      {
        "rule": t["train"]["rule"],
        "variant": t["train"]["variant"] or "-",
        "topology": t["train"]["topology"],
        "D": t["train"]["size"],
        "K range": f"{t['train']['k_min']}-{t['train']['k_max']}",
        "meta-params": t["num_params"],
        "state floats": t["num_state_floats"],
        "steps": t["steps_done"],
        "stopped by": t["stopped"],
        "wall s": t["wall_s"],
        "final train acc": (t["history"] or [{}])[-1].get("hidden_bit_accuracy"),
      }
      for t in trains
    ]
    md += [markdown_table(train_rows, list(train_rows[0])), "", provenance([], trains), ""]
  return md
