r"""Layered hetero storage learned from a random init, three seeds, and what it needs.

  python -m experiments.study --config=configs/studies/layered_scratch.py
  python -m experiments.study --config=configs/studies/layered_scratch.py "--config.seeds=(0,)"
  python -m experiments.study --config=configs/studies/layered_scratch.py:no_reset

The learned rule on configs/remember_layered_warm.py's net and task (K = 2..4 pairs of D = 16
bits, 16 -> 32 -> 16 neurons, the answer taught on the outputs while a pair is stored, bilinear
synapse terms), from `rule.init='random'`, not the hand-set start. Our recipe (no config
argument; rules `layered_scratch_reset_s<seed>`), two stages, 20 minutes per seed:

- `escape`, 15 minutes: neuron states are cleared before recall (`task.reset_neurons_at_recall`),
  so no answer can be kept in them and the one place left for a memory is the synapses; and the
  synapse states start, and may move per step, five times wider (`rule.synapse_init_std`,
  `rule.synapse_update_scale` 0.5 instead of 0.1), so that at step 0 the synapse state already
  moves the answer and a write already depends on the pair: storing has a gradient from the
  start. The rule still sits at the per-bit majority answer first, for a number of steps that
  varies from seed to seed (450 to more than 2,000 here).
- `plain`, 5 minutes: the unchanged task (neuron states kept), warm-started from `escape`, so
  that the rule is trained on the episodes it is evaluated on.

Both stages keep the rate near its peak (`train.num_steps` far beyond what the budget reaches,
so the cosine schedule barely starts). The config argument picks a variant instead:

- `reset_short`: the recipe at 5 + 2.5 minutes, three seeds (too short for two of them);
  `reset_lr4e3`: the same with twice the rate in `escape` (4e-3, the default run's), three seeds;
- at those 7.5 minutes, one seed each, all beside one other training run (equal CPU time):
  `random_init` (none of the changes: the baseline), `no_big_init` and `no_reset` (one change
  left out; `no_reset` takes balanced answers in its place), `short` (balanced answers,
  `task.balanced_answers`, added to both changes: each bit of the taught answers is +1 in half
  of the pairs, so the per-bit majority answer scores 0.5);
- longer, one seed: `plain` (the baseline for 20 minutes) and `escape` (`short` at 20 + 10
  minutes).

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
RECIPE_S = (900, 300)  # escape, plain: the recipe
SHORT_S = (300, 150)  # escape, plain: `reset_short` and the variants at equal time
LONG_S = (1200, 600)  # escape, plain: the long two-stage variant
PLAIN_LONG_S = 1200  # the long baseline
VARIANTS = (
  "reset_short",
  "reset_lr4e3",
  "random_init",
  "no_big_init",
  "no_reset",
  "short",
  "plain",
  "escape",
)


def stage(*overrides) -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.overrides = tuple(overrides)
  return config


def get_config(variant: str = ""):
  if variant and variant not in VARIANTS:
    raise ValueError(f"layered_scratch.py:{variant}: the variants are {VARIANTS}.")
  config = common.study("headline", "results/layered_scratch.jsonl")
  config.base = "remember_layered_warm"  # its net, task and bilinear rule; the init is replaced
  prefixes = {"": "layered_scratch_reset", "escape": "layered_scratch"}
  config.prefix = prefixes.get(variant, f"layered_scratch_{variant}")
  three = ("", "reset_short", "reset_lr4e3")
  config.seeds = (0, 1, 2) if variant in three else (0,)  # one rule per seed
  config.root = "runs/layered_scratch"  # training workdirs: <root>/<prefix>_s<seed>/<stage>
  config.rules_dir = "results/rules"  # where the finished rules are copied
  config.stages = ml_collections.ConfigDict()
  if variant in ("random_init", "plain"):  # the unchanged task and init: time alone
    budget = sum(SHORT_S) if variant == "random_init" else PLAIN_LONG_S
    config.stage_order = ("plain",)
    config.stages.plain = stage(*COMMON, f"train.max_seconds={budget}")
    return config
  escape_s, plain_s = {"": RECIPE_S, "escape": LONG_S}.get(variant, SHORT_S)
  changes = {
    "": BIG_INIT + RESET,
    "reset_short": BIG_INIT + RESET,
    "reset_lr4e3": BIG_INIT + RESET + ("train.learning_rate=4e-3",),
    "no_big_init": BALANCE + RESET,
    "no_reset": BIG_INIT + BALANCE,
    "short": BIG_INIT + BALANCE + RESET,
    "escape": BIG_INIT + BALANCE + RESET,
  }[variant]
  big = BIG_INIT if variant != "no_big_init" else ()
  config.stage_order = ("escape", "plain")  # stages in training order
  config.stages.escape = stage(*COMMON, *changes, f"train.max_seconds={escape_s}")
  config.stages.plain = stage(*COMMON, *big, *PLAIN, f"train.max_seconds={plain_s}")
  return config
