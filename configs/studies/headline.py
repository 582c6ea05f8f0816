r"""The headline rule from scratch, stage by stage, three seeds (about 2-2.7 h per seed here).

  python -m experiments.study --config=configs/studies/headline.py
  python -m experiments.study --config=configs/studies/headline.py "--config.seeds=(0,)"

Stages (our recipe, measured in RESULTS.md): `base` meta-trains at N = 64 on loads 8..24 on 24
slots (blank slots first), 3000 steps; `exact` fine-tunes 400 steps with no blank slots (loads
1, 4, 12, 24, each on its own K-slot layout); `long` adds 200 steps with a load of 40 and an
N = 32 batch (loads 1, 2, 6, 12, 20 there). On this 2-core CPU the stages took 80-106, 15-27 and
24-35 min per seed, most of it beside another run. Rerunning resumes a stopped stage; the rules
land in results/rules/<prefix>_s<seed> (results/rules/HEADLINE names the prefix the README and
the headline commands read).
"""

import ml_collections

from configs.studies import common

N64 = (
  "task.pattern_bits=64",
  "task.k_min=8",
  "task.k_max=24",
  "eval.k=16",
)


def get_config():
  config = common.study("headline", "results/headline.jsonl")
  config.base = "remember"  # the entry of `bases` every stage starts from
  config.prefix = common.headline_prefix()  # rules are <rules_dir>/<prefix>_s<seed> (HEADLINE)
  config.seeds = (0, 1, 2)  # one rule per seed (the seed of every stage's training)
  config.root = "runs/headline"  # training workdirs: <root>/<prefix>_s<seed>/<stage>
  config.rules_dir = "results/rules"  # where the finished rules are copied
  config.stage_order = ("base", "exact", "long")  # stages in training order
  config.stages = ml_collections.ConfigDict()
  config.stages.base = ml_collections.ConfigDict()
  config.stages.base.overrides = N64  # the per-size rule at N = 64, 3000 steps (the default)
  config.stages.exact = ml_collections.ConfigDict()
  config.stages.exact.overrides = (
    *N64[:1],
    "task.k_min=1",
    "task.k_max=24",
    "eval.k=16",
    "train.exact_loads=(1, 4, 12, 24)",
    "train.num_steps=400",
    "train.learning_rate=1e-3",
    "train.warmup_steps=20",
  )  # no blank slots: each load on its own K-slot layout
  config.stages.long = ml_collections.ConfigDict()
  config.stages.long.overrides = (
    *N64[:1],
    "task.k_min=1",
    "task.k_max=40",
    "eval.k=16",
    "train.exact_loads=(1, 4, 12, 24, 40)",
    "train.extra_sizes=(32,)",
    "train.num_steps=200",
    "train.learning_rate=5e-4",
    "train.warmup_steps=20",
  )  # a load of 40 and an N = 32 batch in every step
  return config
