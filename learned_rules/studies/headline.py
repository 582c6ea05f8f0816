"""The headline rule from scratch: meta-training stage by stage, each stage warm-started from the
last, every stage through the one resumable trainer, then a copy into results/rules/.

A stage is the base config with a few dotted-key overrides (`config.stages.<name>.overrides`)
and `train.init_params_file` set to the previous stage's meta_params.msgpack. Each (seed, stage)
trains in `<config.root>/<prefix>_s<seed>/<stage>`, so a stopped run resumes mid-stage when the
same command is rerun; a finished stage is skipped. The last stage's config.json,
meta_params.msgpack and metrics.jsonl are copied to `<config.rules_dir>/<prefix>_s<seed>`, and one
record per finished stage (steps, wall time, final training accuracy) goes to `config.records`.
"""

import os
import shutil
import time

from absl import logging

from learned_rules.common import overrides, records
from learned_rules.common.errors import ConfigError
from learned_rules.studies.base import Study
from learned_rules.train import params_io, trainer

KIND = "headline_stage"
# Records files of staged rules, each a section: its title and the command that trains it.
SECTIONS = (
  (
    "headline.jsonl",
    "The headline rule, trained stage by stage",
    "python -m experiments.study --config=configs/studies/headline.py",
  ),
  (
    "layered_scratch.jsonl",
    "Layered nets from a random init, trained stage by stage",
    "python -m experiments.study --config=configs/studies/layered_scratch.py",
  ),
)


def validate(config) -> None:
  if not config.stage_order:
    raise ConfigError("stage_order: name at least one stage of config.stages.")
  for name in config.stage_order:
    if name not in config.stages:
      raise ConfigError(
        f"stage_order: {name!r} is not a stage of config.stages {list(config.stages)}."
      )
  for seed in config.seeds:
    for index, name in enumerate(config.stage_order):
      stage_config(config, name, seed, previous=None if index == 0 else "previous.msgpack")


def stage_config(config, name: str, seed: int, previous: str | None):
  """The trainer config of stage `name` for `seed`, warm-started from `previous` (a path)."""
  stage = config.stages[name]
  run = config.bases[config.base].copy_and_resolve_references()
  overrides.apply(run, stage.overrides, source=f"stages.{name}.overrides")
  with run.unlocked():
    run.seed = seed
    run.train.init_params_file = previous or ""
  return run


def run_dir(config, seed: int) -> str:
  return os.path.join(config.root, f"{config.prefix}_s{seed}")


def run(config) -> list:
  """Trains every (seed, stage) not finished; returns the records of this study's runs."""
  done = {(r["prefix"], r["seed"], r["stage"]) for r in records.read(config.records, KIND)}
  for seed in config.seeds:
    previous = None
    for name in config.stage_order:
      workdir = os.path.join(run_dir(config, seed), name)
      stage = stage_config(config, name, seed, previous)
      if (config.prefix, seed, name) not in done:
        logging.info(
          "headline %s seed %d stage %s: training in %s", config.prefix, seed, name, workdir
        )
        started = time.time()
        result = trainer.meta_train(stage, workdir)
        if result.interrupted:
          return {"interrupted": result.stopped}
        final = (result.history or [{}])[-1]
        records.append(
          config.records,
          {
            "kind": KIND,
            "prefix": config.prefix,
            "seed": seed,
            "stage": name,
            "overrides": list(config.stages[name].overrides),
            "steps": result.steps_done,
            "wall_s": result.wall_s,
            "call_wall_s": time.time() - started,
            "train_hidden_bit_accuracy": final.get("hidden_bit_accuracy"),
            **records.provenance(config.machine),
          },
        )
      previous = os.path.join(workdir, params_io.PARAMS_FILE)
    publish(config, seed, os.path.dirname(previous))
  return [r for r in records.read(config.records, KIND) if r["prefix"] == config.prefix]


def publish(config, seed: int, workdir: str) -> None:
  """Copies the last stage's rule files into `<rules_dir>/<prefix>_s<seed>`."""
  target = os.path.join(config.rules_dir, f"{config.prefix}_s{seed}")
  os.makedirs(target, exist_ok=True)
  for name in ("config.json", params_io.PARAMS_FILE, "metrics.jsonl"):
    shutil.copyfile(os.path.join(workdir, name), os.path.join(target, name))
  logging.info("rule of seed %d copied to %s", seed, target)


def summary(found, config) -> list[str]:
  if isinstance(found, dict):
    return [f"stopped by {found['interrupted']}: rerun the same command to resume"]
  lines = [f"{config.prefix}: stage, seed, steps, wall s, final training hidden-bit accuracy"]
  for r in found:
    acc = r["train_hidden_bit_accuracy"]
    lines.append(
      f"  {r['stage']:<10} s{r['seed']} {r['steps']:>5} {r['wall_s']:>7.0f}  "
      + ("-" if acc is None else f"{acc:.4f}")
    )
  return lines


def section(context) -> list[str]:
  lines = []
  for filename, title, command in SECTIONS:
    found = context.read(filename, KIND)
    if found:
      lines += stage_table(found, title, command)
  return lines


def stage_table(found: list, title: str, command: str) -> list[str]:
  lines = [
    f"## {title}",
    "",
    "Each stage is the study's base config with the overrides shown, warm-started from the "
    "previous stage's meta-parameters, meta-trained by the resumable trainer "
    f"(`{command}`). Wall time is the trainer's clock, summed over resumed parts.",
    "",
    "| rule | seed | stage | overrides | steps | wall s | final training hidden-bit acc | "
    "machine |",
    "|---|---|---|---|---|---|---|---|",
  ]
  for r in sorted(found, key=lambda r: (r["prefix"], r["seed"])):
    acc = r["train_hidden_bit_accuracy"]
    lines.append(
      f"| {r['prefix']} | {r['seed']} | {r['stage']} | `{' '.join(r['overrides'])}` | "
      f"{r['steps']} | {r['wall_s']:.0f} | {'-' if acc is None else f'{acc:.4f}'} | "
      f"{r['machine']} |"
    )
  totals = {}
  for r in found:
    totals[(r["prefix"], r["seed"])] = totals.get((r["prefix"], r["seed"]), 0.0) + r["wall_s"]
  budget = ", ".join(f"{p}_s{s}: {t / 60:.0f} min" for (p, s), t in sorted(totals.items()))
  return lines + ["", f"Training budget per rule, all stages: {budget}.", ""]


STUDY = Study(name="headline", run=run, section=section, validate=validate, summary=summary)
