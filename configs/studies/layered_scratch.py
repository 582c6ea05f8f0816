r"""Layered hetero storage learned from a random init, three seeds, and what it needs.

  python -m experiments.study --config=configs/studies/layered_scratch.py
  python -m experiments.study --config=configs/studies/layered_scratch.py "--config.seeds=(0,)"
  python -m experiments.study --config=configs/studies/layered_scratch.py:escape
  python -m experiments.study --config=configs/studies/layered_scratch.py:no_reset

The learned rule on configs/remember_layered_warm.py's net and task (K = 2..4 pairs of D = 16
bits, 16 -> 32 -> 16 neurons, the answer taught on the outputs while a pair is stored, bilinear
synapse terms), from `rule.init='random'`, not the hand-set start.

The recipe (no config argument; prefix `layered_scratch_plain`): nothing but time at an
undecayed rate. One stage on the unchanged task, 20 minutes, with `train.num_steps` far beyond
what the budget reaches, so that the cosine schedule keeps the rate near its peak (2e-3): from a
random init the rule sits at the per-bit majority answer for about 1,300 steps and then leaves
it. (configs/remember_layered_warm.py's 1,000 steps, its rate decayed over them, end before
that; RESULTS.md, "Layered nets from a random init".)

`escape` (prefix `layered_scratch`): the two-stage variant we tried first. Stage `escape` takes
away every answer that needs no synapse memory, `task.balanced_answers` (each bit of the taught
answers is +1 in half of the pairs, so the majority answer scores 0.5) and
`task.reset_neurons_at_recall` (neuron states cleared before recall), and starts the synapse
states and a step's bound on their change larger (`rule.synapse_init_std`,
`rule.synapse_update_scale` 0.5 instead of 0.1); 20 minutes. Stage `plain`: 10 more minutes on
the unchanged task, warm-started from it.

The other arguments are ablations, one seed each at 7.5 minutes, so that all of them run at
equal CPU time: `random_init` (the recipe itself at that budget: the baseline), `short` (the
two-stage variant, 5 + 2.5 minutes), and `no_big_init`, `no_balance`, `no_reset` (the two-stage
variant with one of its pieces left out).

Each stage trains by the resumable trainer in runs/layered_scratch/<prefix>_s<seed>/<stage>
(rerunning resumes it); the rules land in results/rules/<prefix>_s<seed>.
`configs/studies/layered_table.py` scores them against the hand-set start and the hand-written
rules on the same episodes.
"""

import ml_collections

from configs.studies import common

COMMON = (
  "rule.init=random",
  "train.num_steps=20000",  # the stages stop on train.max_seconds
  "eval.baselines=()",  # the comparison is configs/studies/layered_table.py's
  "eval.probe=False",
)
BIG_INIT = ("rule.synapse_init_std=0.5", "rule.synapse_update_scale=0.5")
BALANCE = ("task.balanced_answers=True",)
RESET = ("task.reset_neurons_at_recall=True",)
PLAIN = ("train.learning_rate=1e-3", "train.warmup_steps=20")
FULL_BUDGET_S = (1200, 600)  # the two-stage variant: escape, plain
RECIPE_S = 1200  # the recipe: one stage
ABLATIONS = ("short", "no_big_init", "no_balance", "no_reset", "random_init")
VARIANTS = ("escape", *ABLATIONS)


def stage(*overrides) -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.overrides = tuple(overrides)
  return config


def get_config(variant: str = ""):
  if variant and variant not in VARIANTS:
    raise ValueError(f"layered_scratch.py:{variant}: the variants are {VARIANTS}.")
  ablation = variant in ABLATIONS
  escape_s, plain_s = (s // 4 for s in FULL_BUDGET_S) if ablation else FULL_BUDGET_S
  big = () if variant == "no_big_init" else BIG_INIT
  tasks = {"no_balance": RESET, "no_reset": BALANCE}.get(variant, BALANCE + RESET)
  config = common.study("headline", "results/layered_scratch.jsonl")
  config.base = "remember_layered_warm"  # its net, task and bilinear rule; the init is replaced
  prefixes = {"": "layered_scratch_plain", "escape": "layered_scratch"}
  config.prefix = prefixes.get(variant, f"layered_scratch_{variant}")
  config.seeds = (0, 1, 2) if variant == "" else (0,)  # one rule per seed
  config.root = "runs/layered_scratch"  # training workdirs: <root>/<prefix>_s<seed>/<stage>
  config.rules_dir = "results/rules"  # where the finished rules are copied
  config.stages = ml_collections.ConfigDict()
  if variant in ("", "random_init"):  # the unchanged task and init, for time alone
    budget = RECIPE_S if variant == "" else escape_s + plain_s
    config.stage_order = ("plain",)
    config.stages.plain = stage(*COMMON, f"train.max_seconds={budget}")
    return config
  config.stage_order = ("escape", "plain")  # stages in training order
  config.stages.escape = stage(*COMMON, *big, *tasks, f"train.max_seconds={escape_s}")
  config.stages.plain = stage(*COMMON, *big, *PLAIN, f"train.max_seconds={plain_s}")
  return config
