r"""Layered hetero storage learned from a random init, in two stages, three seeds.

  python -m experiments.study --config=configs/studies/layered_scratch.py
  python -m experiments.study --config=configs/studies/layered_scratch.py "--config.seeds=(0,)"
  python -m experiments.study --config=configs/studies/layered_scratch.py:no_reset

The learned rule on configs/remember_layered_warm.py's net and task (K = 2..4 pairs of D = 16
bits, 16 -> 32 -> 16 neurons, the answer taught on the outputs while a pair is stored, bilinear
synapse terms), but from `rule.init='random'`, not the hand-set start. Our recipe:

- `escape`: two changes to the training task take away every answer that needs no synapse
  memory: `task.balanced_answers` (each bit of the taught answers is +1 in half of the pairs, so
  the per-bit majority answer scores 0.5) and `task.reset_neurons_at_recall` (neuron states are
  cleared before recall, so nothing can be kept in them). And a larger random init of the
  synapse states and of a step's bound on their change (`rule.synapse_init_std` and
  `rule.synapse_update_scale` 0.5 instead of 0.1), so that at step 0 the synapse state already
  moves the answer and a write already depends on the pair: storing has a gradient from the
  start. 20 minutes of training.
- `plain`: 10 more minutes on the unchanged task (independent answers, neuron states kept),
  warm-started from `escape`, so that the rule is trained on the episodes it is evaluated on.

The config argument picks an ablation instead, each one seed at a quarter of the budget (5 + 2.5
minutes), so that all of them run at equal CPU time: `short` (the recipe itself), `no_big_init`
(synapse init and step bound left at 0.1), `no_balance`, `no_reset` (one task change left out of
`escape`) and `random_init` (none of the three: the plain task from the default init for the
same 7.5 minutes, the baseline).

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
FULL_BUDGET_S = (1200, 600)  # escape, plain
ABLATIONS = ("short", "no_big_init", "no_balance", "no_reset", "random_init")


def stage(*overrides) -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.overrides = tuple(overrides)
  return config


def get_config(ablation: str = ""):
  if ablation and ablation not in ABLATIONS:
    raise ValueError(f"layered_scratch.py:{ablation}: the ablations are {ABLATIONS}.")
  escape_s, plain_s = (s // 4 for s in FULL_BUDGET_S) if ablation else FULL_BUDGET_S
  big = () if ablation == "no_big_init" else BIG_INIT
  tasks = {"no_balance": RESET, "no_reset": BALANCE}.get(ablation, BALANCE + RESET)
  config = common.study("headline", "results/layered_scratch.jsonl")
  config.base = "remember_layered_warm"  # its net, task and bilinear rule; the init is replaced
  config.prefix = "layered_scratch" + (f"_{ablation}" if ablation else "")
  config.seeds = (0,) if ablation else (0, 1, 2)  # one rule per seed
  config.root = "runs/layered_scratch"  # training workdirs: <root>/<prefix>_s<seed>/<stage>
  config.rules_dir = "results/rules"  # where the finished rules are copied
  config.stages = ml_collections.ConfigDict()
  if ablation == "random_init":  # the baseline: the unchanged task and init, the same budget
    config.stage_order = ("plain",)
    config.stages.plain = stage(*COMMON, f"train.max_seconds={escape_s + plain_s}")
    return config
  config.stage_order = ("escape", "plain")  # stages in training order
  config.stages.escape = stage(*COMMON, *big, *tasks, f"train.max_seconds={escape_s}")
  config.stages.plain = stage(*COMMON, *big, *PLAIN, f"train.max_seconds={plain_s}")
  return config
