r"""RESULTS.md and its PNG plots from the sweep records (results/*.jsonl); nothing is rerun.

Every figure's section states the sweep command that produced its records, the machine written
in them, and the summed wall time of those records (evaluation, plus meta-training where a rule
was trained). Records of either spelling of a cue-weighted rule count as cue-weighted: today's
rule 'X_cued', or (records written before it was registered) rule 'X' with a
'rule.free_weight=...' variant. Records are labelled in today's spelling (`grid.canonical`), so
points of one rule recorded in both spellings form one series. The numpy Hopfield reference
(`hopfield_reference.py`, records of kind 'hopfield_reference') has its own section.
"""

import collections
import glob
import json
import math
import os

from learned_rules import probes
from learned_rules.sweeps import grid, hopfield_reference, recipes

THRESHOLD = 0.99  # the spec's capacity criterion on hidden-bit accuracy
APPROX_THRESHOLD = 0.985  # Hopfield-style approximate recall: about 1.5% bit errors at the limit
DEFAULT_CUE, DEFAULT_DELAY = 0.5, 2  # the table and capacity plots use these task settings
CUED = "free_weight"  # legacy spelling: variants of the hand-written rules with cue-weighted recall
CUED_SUFFIX = "_cued"  # today's spelling: the registered rule 'X_cued'
RULE_ORDER = ("hebbian", "storkey", "delta", "learned", "frozen", "lstm")
HANDWRITTEN = ("hebbian", "storkey", "delta")  # with their cued forms: the baselines of a target


def colours(names) -> dict:
  """One matplotlib colour per name, all distinct for up to 20 names (tab10, then tab20 with its
  dark shades first); the same name keeps its colour in every panel it is drawn in."""
  import matplotlib.pyplot as plt

  names = list(dict.fromkeys(names))
  if len(names) <= 10:
    palette = plt.get_cmap("tab10").colors
    return {name: palette[i] for i, name in enumerate(names)}
  palette = plt.get_cmap("tab20").colors
  order = list(range(0, 20, 2)) + list(range(1, 20, 2))
  return {name: palette[order[i % 20]] for i, name in enumerate(names)}


def reference_capacities(n: float) -> dict:
  """Section 5 of the spec: capacity K as a function of N (random unbiased ±1 patterns)."""
  return {
    "Hopfield 0.138 N (approx.)": 0.138 * n,
    "Hebbian exact N/(4 ln N)": n / (4 * math.log(n)),
    "Storkey N/sqrt(2 ln N)": n / math.sqrt(2 * math.log(n)),
    "pseudo-inverse N": n,
    "Gardner 2 N": 2 * n,
  }


SWEEP_KINDS = ("eval", "train")  # records of experiments/sweep.py; other files have their own


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


def load_reference(records_dir: str) -> list:
  """The numpy Hopfield reference records (experiments/hopfield_reference.py), by N and load."""
  out = []
  for path in sorted(glob.glob(os.path.join(records_dir, "*.jsonl"))):
    with open(path) as f:
      for line in f:
        line = line.strip()
        if line:
          record = json.loads(line)
          if record.get("kind") == hopfield_reference.KIND:
            out.append(record)
  latest = {(r["size"], r["load"], r["hidden_fraction"]): r for r in out}  # last one wins
  return [latest[key] for key in sorted(latest)]


def reference_section(records: list) -> list[str]:
  """RESULTS.md lines: numpy Hopfield recall, free and clamped, next to the engine's Hebbian."""
  if not records:
    return []
  columns = {  # table column -> name in a record's `recall`
    "numpy free": "numpy_free",
    "numpy clamped": "numpy_clamped",
    "engine hebbian_cued": "hebbian_cued",
    "engine hebbian": "hebbian",
    "oracle": "oracle",
  }
  rows = []
  for r in records:
    recall = r["recall"]
    row = {"N": r["size"], "alpha": str(r["load"]), "K": r["k"]}
    for column, name in columns.items():
      row[column] = f"{recall[name]['hidden_bit_accuracy']:.4f}"
    row["fixed points free / clamped"] = (
      f"{recall['numpy_free']['fixed_point_fraction']:.2f} / "
      f"{recall['numpy_clamped']['fixed_point_fraction']:.2f}"
    )
    rows.append(row)

  def mean_gap(a, b):
    """Mean over the points of hidden-bit accuracy of `a` minus that of `b` (recall names)."""
    gaps = [
      r["recall"][a]["hidden_bit_accuracy"] - r["recall"][b]["hidden_bit_accuracy"] for r in records
    ]
    return sum(gaps) / len(gaps)

  clamping = mean_gap("numpy_clamped", "numpy_free")
  protocol = mean_gap("hebbian_cued", "numpy_clamped")
  first = records[0]
  episodes = sorted({r["episodes"] for r in records})
  cues = sorted({r["hidden_fraction"] for r in records})
  return [
    "## Textbook reference: a numpy Hopfield net next to the engine's Hebbian rules",
    "",
    "Our own plain numpy implementation (`learned_rules/sweeps/hopfield_reference.py`): "
    "W = sum_k xi_k xi_k^T / N with a zero diagonal; recall starts from the cue with its hidden "
    "bits at 0 and runs synchronous s <- sign(W s) (sign(0) = +1) until a fixed point or "
    f"{first['max_iterations']} updates. *numpy free* clamps nothing (the textbook protocol: "
    "the cue is only the initial state); *numpy clamped* holds the cue's visible bits every "
    "update, nothing else changed. Patterns and cues are read from the remember task's episodes "
    f"(K = round(alpha N) patterns of N bits, c = {', '.join(map(str, cues))} of each cue "
    f"hidden, {', '.join(map(str, episodes))} episodes per point), and the engine's rules run on "
    "those same episode objects; every answer is scored by the task's own counts. Hidden-bit "
    "accuracy (the last column: fraction of numpy read-outs that ended on a fixed point, the "
    "rest are in 2-cycles of the synchronous dynamics):",
    "",
    markdown_table(rows, list(rows[0])),
    "",
    "Where the protocols differ. (1) The engine clamps the cue: every neuron with an external "
    "input copies it, so visible bits cannot drift; numpy free lets them flip and can slide into "
    "a spurious or wrong stored state the cue's visible bits rule out. Clamping is the "
    f"difference between the first two columns: {clamping:+.4f} on average over these points. "
    f"(2) Timing: the engine recalls a cue for P_r = {first['recall_steps']} synchronous steps "
    "right after the previous item's recall (the first item after a "
    f"{first['delay_steps']}-step delay), and a step's messages come from the previous step's "
    "states, so its first step still sees the previous item and P_r - 1 = "
    f"{first['recall_steps'] - 1} updates see the new cue, where numpy iterates to a fixed "
    "point. (3) Cue weighting: `hebbian_cued` scales the messages of unclamped neurons by "
    f"rule.free_weight = {first['free_weight']}, and its hidden neurons start from the previous "
    "item's recalled state, not from 0; plain `hebbian` weighs them fully, so the previous "
    "pattern outvotes half a cue. (2) and (3) together are the gap between numpy clamped and "
    f"the engine's `hebbian_cued`: {protocol:+.4f} on average. (4) Storage: the engine adds "
    f"each pattern once per store step (P = {first['store_steps']}) and pools messages by their "
    "mean over N - 1 synapses; both scale W uniformly and do not change a sign.",
    "",
    provenance(records),
    "",
  ]


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
    for name, cap in reference_capacities(size).items():
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
  for name, _ in reference_capacities(16).items():
    ax.plot(ns, [reference_capacities(n)[name] for n in ns], "--", lw=0.8, label=name)
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


def estimator_section(records_dir: str, rel: str, plots_dir: str | None = None) -> list[str]:
  """BPTT against ES at equal wall time, from results/bptt_vs_es_*.jsonl (compare_estimators).

  The plots are redrawn from the records, so the section depends on the records alone.
  """
  from learned_rules.sweeps import estimators

  plots_dir = plots_dir or records_dir
  lines = []
  for path in sorted(glob.glob(os.path.join(records_dir, "bptt_vs_es_*.jsonl"))):
    with open(path) as f:
      records = [json.loads(line) for line in f if line.strip()]
    summaries = [r for r in records if r.get("kind") == "estimator_summary"]
    if not summaries:
      continue
    name = os.path.splitext(os.path.basename(path))[0]
    if not lines:
      lines += [
        "## Outer loops: BPTT against evolution strategies at equal wall time",
        "",
        "Each estimator trains the same config for the same training wall time (compilation "
        "included); checkpoints are scored afterwards on the same held-out episodes "
        "(`python -m experiments.compare_estimators`, command per row).",
        "",
        "| comparison | estimator | budget s | steps | final held-out hidden-bit acc | "
        "settings | machine | command |",
        "|---|---|---|---|---|---|---|---|",
      ]
    for r in summaries:
      settings = (
        f"pop {r['es']['population_size']}, sigma {r['es']['sigma']}, "
        f"Adam {r['es']['learning_rate']}, batch {r['batch_size']}"
        if r["estimator"] == "es"
        else f"Adam {r['learning_rate']}, batch {r['batch_size']}"
      )
      lines.append(
        f"| {name} | {r['estimator']} | {r['budget_s']:.0f} | {r['steps']} | {r['final']:.4f} | "
        f"{settings} | {r['machine']} | `{r['command']}` |"
      )
    estimators.plot(
      records,
      os.path.join(plots_dir, f"{name}.png"),
      name[len("bptt_vs_es_") :],
      summaries[0].get("machine", ""),
    )
    lines += ["", f"![{name}]({rel}/{name}.png)", ""]
  return lines


def teacher_section(records_dir: str, rel: str, plots_dir: str) -> list[str]:
  """Learning curves on unseen keys of a random teacher, from results/teacher_curves.jsonl."""
  from learned_rules.sweeps import teacher_curves

  records = teacher_curves.read_records(os.path.join(records_dir, "teacher_curves.jsonl"))
  if not any(r.get("kind") == teacher_curves.CURVE for r in records):
    return []
  teacher_curves.plot(records, os.path.join(plots_dir, "teacher_curves.png"))
  table = teacher_curves.markdown(records).rstrip("\n").split("\n")
  return table[:2] + [f"![teacher curves]({rel}/teacher_curves.png)", ""] + table[2:] + [""]


def layered_section(records_dir: str) -> list[str]:
  """Layered nets taught at their outputs, rule x K (experiments.layered_table)."""
  from learned_rules.sweeps import layered_table

  path = os.path.join(records_dir, "layered_table.jsonl")
  records = layered_table.read_records(path)
  if not records:
    return []
  return layered_table.markdown(records).rstrip("\n").split("\n") + [""]


def capacity_section(records_dir: str, rel: str, plots_dir: str) -> list[str]:
  """K*(N) searched per rule (experiments.capacity), from results/capacity.jsonl."""
  from learned_rules.sweeps import capacity

  records = capacity.read_records(os.path.join(records_dir, "capacity.jsonl"))
  if not records:
    return []
  capacity.plot(records, os.path.join(plots_dir, "capacity_search.png"))
  root = os.path.dirname(os.path.abspath(records_dir))  # rule directories are repo-relative
  sizes_trained = capacity.trained_sizes(records, root)
  return capacity.markdown(records, f"{rel}/capacity_search.png", 0.99, sizes_trained).split("\n")


def anatomy_section(records_dir: str, rel: str, plots_dir: str) -> list[str]:
  """A rule's storage update and memory location (experiments.anatomy), from its records."""
  from learned_rules.sweeps import anatomy

  records = anatomy.read_records(os.path.join(records_dir, "rule_anatomy.jsonl"))
  if not records:
    return []
  anatomy.plot(records, os.path.join(plots_dir, "rule_anatomy.png"))
  return anatomy.markdown(records, f"{rel}/rule_anatomy.png").split("\n")


def serial_position_section(records_dir: str, rel: str, plots_dir: str) -> list[str]:
  """Recall by storage position (experiments.serial_position), from its records."""
  from learned_rules.sweeps import serial_position

  records = serial_position.read_records(os.path.join(records_dir, "serial_position.jsonl"))
  if not records:
    return []
  serial_position.plot(records, os.path.join(plots_dir, "serial_position.png"))
  return serial_position.markdown(records, f"{rel}/serial_position.png").split("\n")


def generate(records_dir: str, output: str, plots_dir: str | None = None) -> str:
  """Writes the plots and the markdown report; returns the markdown."""
  plots_dir = plots_dir or records_dir
  os.makedirs(plots_dir, exist_ok=True)
  evals, trains = load_records(records_dir)
  out_dir = os.path.dirname(os.path.abspath(output))
  rel = os.path.relpath(plots_dir, out_dir)
  records_rel = os.path.relpath(records_dir, out_dir)
  md = [
    "# Results: rules side by side",
    "",
    "Generated by `python -m experiments.results` from the sweep records in "
    f"`{records_rel}/*.jsonl` (written by `experiments/sweep.py`); do not edit by hand.",
    f"Capacity K* is the largest K on the grid before the first K whose hidden-bit accuracy is "
    f"below {THRESHOLD} (the spec's criterion); K*_0.985 uses the Hopfield-style approximate "
    f"criterion (about 1.5% bit errors). '>=' means the grid's largest K still passed. Task "
    f"unless stated: auto-association, half the cue bits hidden (c = {DEFAULT_CUE}), P = 2 store "
    f"steps, G = 1, delay Q = {DEFAULT_DELAY}, 3 recall steps. D = visible bits; N = neurons.",
    "",
  ]
  if not evals:
    md.append("No records yet.")
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
    plot_capacity_vs_size(rows, os.path.join(plots_dir, "capacity_vs_size.png"))
    md += [
      "## Capacity against size, with the spec's reference capacities",
      "",
      f"![capacity]({rel}/capacity_vs_size.png)",
      "",
      provenance(default, trains_for(default, trains)),
      "",
    ]
  recipe_records = recipes.read_records(os.path.join(records_dir, "recipes.jsonl"))
  if recipe_records:
    recipes.plot(recipe_records, os.path.join(plots_dir, "recipes.png"))
    md += recipes.markdown(recipe_records, f"{rel}/recipes.png")
  md += estimator_section(records_dir, rel, plots_dir)
  md += layered_section(records_dir)
  md += teacher_section(records_dir, rel, plots_dir)
  md += capacity_section(records_dir, rel, plots_dir)
  md += anatomy_section(records_dir, rel, plots_dir)
  md += serial_position_section(records_dir, rel, plots_dir)
  for topo in ("fully_connected", "sparse", "layered"):
    name = f"recall_vs_load_{topo}.png"
    used = plot_recall_vs_load(evals, os.path.join(plots_dir, name), topo, topo)
    if used:
      md += [
        f"## Recall against load: {topo}",
        "",
        f"![{topo}]({rel}/{name})",
        "",
        provenance(used, trains_for(used, trains)),
        "",
      ]
  used = plot_variants(evals, os.path.join(plots_dir, "variants.png"))
  if used:
    md += [
      "## Ablations and variants (same rule, one change each)",
      "",
      f"![variants]({rel}/variants.png)",
      "",
      provenance(used, trains_for(used, trains)),
      "",
    ]
  probed = plot_memory_location(evals, os.path.join(plots_dir, "memory_location.png"))
  if probed:
    md += [
      "## Where memory lives",
      "",
      "After the store phase the synapse states are replaced by a fresh episode-start "
      "sample (or the neuron states reset to zero); the fraction is the stored information "
      "left, relative to the intact network.",
      "",
      f"![memory]({rel}/memory_location.png)",
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
    used = plot_difficulty(evals, os.path.join(plots_dir, name), axis)
    if used:
      md += [
        f"## Difficulty: {title}",
        "",
        f"![{axis}]({rel}/{name})",
        "",
        provenance(used, trains_for(used, trains)),
        "",
      ]
  if trains:
    plot_training(trains, os.path.join(plots_dir, "training.png"))
    md += ["## Meta-training", "", f"![training]({rel}/training.png)", ""]
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
  md += reference_section(load_reference(records_dir))
  text = "\n".join(md) + "\n"
  with open(output, "w") as f:
    f.write(text)
  return text
