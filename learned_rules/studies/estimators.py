r"""BPTT against evolution strategies at equal wall time: held-out accuracy against seconds.

  python -m experiments.study --config=configs/studies/estimators.py
  python -m experiments.study --config=configs/studies/estimators.py --config.base=remember_layered

Each estimator meta-trains the same config (only `train.estimator` differs; `es_batch_size` may
give ES its own episodes per generation) through the one trainer, `train.trainer.meta_train`,
capped at `seconds` of training (`train.max_seconds`: compilation counts, as in every run), in
`<workdir>/<name>/<estimator>`, keeping a checkpoint every `checkpoint_every[estimator]` steps
with the training wall time it was saved at. Afterwards the checkpoints at least `eval_every_s`
apart (and the last one), plus the shared initial meta-parameters at 0 s, are scored on one
fixed set of held-out episodes (the trainer's evaluation stream and load, `eval_episodes` of
them): evaluation costs no training time and every point of both curves sees the same episodes.
Rerunning with the same workdir resumes an estimator stopped early (Ctrl-C, a kill) and
re-scores; one that had used its time takes one more step (the trainer's cap is checked after a
step). Use a fresh workdir for a new budget.

Writes `<results_dir>/bptt_vs_es_<name>.jsonl` (one record per scored point, one summary per
estimator; replaced on each run) and `<results_dir>/bptt_vs_es_<name>.png`.
"""

import glob
import os
import time

import jax

from learned_rules import evaluation, experiment
from learned_rules.common import checkpointing, overrides
from learned_rules.common import records as records_io
from learned_rules.dynamics import run_batch
from learned_rules.studies.base import Study
from learned_rules.tasks.base import model_inputs
from learned_rules.train import es, params_io, report, trainer

ESTIMATORS = es.ESTIMATORS  # ('bptt', 'es'), in plotting order
KEEP_ALL = 1_000_000  # train.checkpoints_to_keep: every checkpoint is a point of the curve
REPORTED = ("hidden_bit_accuracy", "bit_accuracy", "perfect_recall_fraction")
POINT, SUMMARY = "estimator_point", "estimator_summary"  # the records' `kind`


class _CheckpointAt(checkpointing.Checkpointer):
  """A Checkpointer whose `restore_latest` reads the step set in `.step` (checks included)."""

  step = None

  def latest_step(self):
    return self.step if self.step in self.steps() else None


def estimator_config(config, estimator: str, seconds: float, checkpoint_every: int, batch=-1):
  """`config` trained by `estimator` for `seconds`, every checkpoint kept."""
  config = config.copy_and_resolve_references()
  with config.unlocked():
    config.mode = "train"
    config.train.estimator = estimator
    config.train.max_seconds = float(seconds)
    config.train.checkpoint_every = int(checkpoint_every)
    config.train.checkpoints_to_keep = KEEP_ALL
    if batch > 0:
      config.train.batch_size = int(batch)
  return config


def make_scorer(config, num_episodes: int):
  """score(params) -> recall metrics on fixed held-out episodes; compiled once for all points."""
  exp = experiment.build(config)
  model = exp.model(config.rule.name)
  task = experiment.eval_task(config, exp.task)
  k = task.load_range[1]
  batch_size = min(config.eval.batch_size, num_episodes)

  @jax.jit
  def batch_counts(params, rng):
    key_task, key_synapses = jax.random.split(rng)
    episodes = task.sample_batch(key_task, batch_size, k, k)
    logits = run_batch(model, params, key_synapses, model_inputs(task, model, episodes), False)
    return evaluation.summed_counts(task, logits, episodes)

  def score(params):
    totals = evaluation.accumulate(
      lambda rng: batch_counts(params, rng),
      config.seed + report.EVAL_SEED_OFFSET,
      num_episodes,
      batch_size,
    )
    metrics = task.summarize(totals, exp.synapses(config.rule.name), 0)
    return {key: float(metrics[key]) for key in REPORTED}

  return score


def checkpoint_params(config, workdir: str, eval_every_s: float):
  """[(step, training seconds, meta-parameters)] of the checkpoints to score, in step order.

  Those at least `eval_every_s` of training apart, starting with the first, and the last.
  """
  model = experiment.build(config).model(config.rule.name)
  template = params_io.state_template(config, model)
  checkpointer = _CheckpointAt(os.path.join(workdir, "checkpoints"), KEEP_ALL, create=False)
  points, next_mark = [], 0.0
  try:
    steps = checkpointer.steps()
    for step in steps:
      checkpointer.step = step
      state, _ = checkpointer.restore_latest(template, check_only="params")
      wall_s = float(checkpointer.restored_extra.get("wall_s", 0.0))
      if state is not None and (wall_s >= next_mark or step == steps[-1]):
        points.append((step, wall_s, state.params))
        next_mark = wall_s + eval_every_s
    return points
  finally:
    checkpointer.close()


def compare(
  config,
  name: str,
  seconds: float = 600.0,
  workdir: str = "runs/compare_estimators",
  results_dir: str = "results",
  eval_every_s: float = 10.0,
  eval_episodes: int = 256,
  checkpoint_every: dict | None = None,
  es_batch_size: int = -1,
  estimators=ESTIMATORS,
  machine: str = "",
  log=print,
) -> list[dict]:
  """Trains each estimator for `seconds`, scores its checkpoints, writes the records and plot."""
  checkpoint_every = {"bptt": 20, "es": 2} | dict(checkpoint_every or {})
  machine = records_io.machine_description(machine)
  command = records_io.command_line()
  records = []
  for estimator in estimators:
    run_config = estimator_config(
      config,
      estimator,
      seconds,
      checkpoint_every[estimator],
      es_batch_size if estimator == "es" else -1,
    )
    trainer.validate(run_config)
    run_dir = os.path.join(workdir, name, estimator)
    log(f"{estimator}: training for {seconds:.0f} s in {run_dir}")
    start = time.time()
    result = trainer.meta_train(run_config, run_dir)
    log(f"{estimator}: {result.steps_done} steps in {result.wall_s:.1f} s ({result.stopped})")
    if result.interrupted:
      return {"interrupted": result.stopped}
    score = make_scorer(run_config, eval_episodes)
    model = experiment.build(run_config).model(run_config.rule.name)
    initial = params_io.state_template(run_config, model).params
    points = [(0, 0.0, initial)] + checkpoint_params(run_config, run_dir, eval_every_s)
    common = {"config": name, "estimator": estimator, "budget_s": float(seconds)}
    for step, wall_s, params in points:
      record = common | {"kind": POINT, "step": step, "seconds": wall_s} | score(params)
      records.append(record)
      log(
        f"{estimator} step {step} at {wall_s:.1f} s: "
        f"hidden-bit accuracy {record['hidden_bit_accuracy']:.4f}"
      )
    records.append(
      common
      | {
        "kind": SUMMARY,
        "steps": result.steps_done,
        "train_seconds": result.wall_s,
        "steps_per_second": result.steps_done / max(result.wall_s, 1e-9),
        "final": records[-1]["hidden_bit_accuracy"],
        "batch_size": run_config.train.batch_size,
        "es": run_config.train.es.to_dict() if estimator == "es" else None,
        "learning_rate": run_config.train.learning_rate if estimator == "bptt" else None,
        "eval_episodes": eval_episodes,
        "eval_k": experiment.eval_task(run_config).load_range[1],
        "wall_s_with_scoring": time.time() - start,
        "machine": machine,
        "command": command,
      }
    )
  path = os.path.join(results_dir, f"bptt_vs_es_{name}.jsonl")
  records_io.rewrite(path, records)
  plot(records, os.path.join(results_dir, f"bptt_vs_es_{name}.png"), name, machine)
  log(f"wrote {path} and its plot")
  return records


def plot(records: list[dict], path: str, name: str, machine: str = "") -> None:
  """Held-out hidden-bit accuracy against training seconds, one line per estimator."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(5.5, 3.8))
  for estimator in ESTIMATORS:
    points = [r for r in records if r["kind"] == POINT and r["estimator"] == estimator]
    if not points:
      continue
    summary = next(r for r in records if r["kind"] == SUMMARY and r["estimator"] == estimator)
    label = f"{estimator.upper()} ({summary['steps']} steps, {summary['steps_per_second']:.2f}/s)"
    ax.plot(
      [p["seconds"] for p in points],
      [p["hidden_bit_accuracy"] for p in points],
      "o-",
      ms=3,
      label=label,
    )
  ax.axhline(0.5, color="gray", lw=0.8, ls=":")
  ax.set_xlabel("training wall time (s, compilation included)")
  ax.set_ylabel("held-out hidden-bit accuracy")
  ax.set_title(f"BPTT vs ES at equal wall time: {name}" + (f"\n{machine}" if machine else ""))
  ax.set_ylim(0.4, 1.01)
  ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def run(config):
  """The study: `compare` on `config.bases[config.base]` with `config.overrides` applied."""
  task_config = config.bases[config.base].copy_and_resolve_references()
  overrides.apply(task_config, config.overrides, "overrides")
  return compare(
    task_config,
    config.name or config.base,
    seconds=config.seconds,
    workdir=config.workdir,
    results_dir=os.path.dirname(config.records) or ".",
    eval_every_s=config.eval_every_s,
    eval_episodes=config.eval_episodes,
    checkpoint_every={"bptt": config.bptt_checkpoint_every, "es": config.es_checkpoint_every},
    es_batch_size=config.es_batch_size,
    estimators=config.estimators,
    machine=config.machine,
  )


def section(context) -> list[str]:
  """BPTT against ES at equal wall time, from results/bptt_vs_es_*.jsonl (compare_estimators).

  The plots are redrawn from the records, so the section depends on the records alone.
  """
  lines = []
  for path in sorted(glob.glob(os.path.join(context.records_dir, "bptt_vs_es_*.jsonl"))):
    records = records_io.read(path)
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
        "(`python -m experiments.study --config=configs/studies/estimators.py`, command per row).",
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
    plot(
      records,
      context.plot_path(f"{name}.png"),
      name[len("bptt_vs_es_") :],
      summaries[0].get("machine", ""),
    )
    lines += ["", f"![{name}]({context.link(name + '.png')})", ""]
  return lines


STUDY = Study(name="estimators", run=run, section=section)
