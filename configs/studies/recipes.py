r"""Meta-training recipes compared on one yardstick: hidden-bit accuracy at K = 8, N = 32 against
meta-steps and training minutes, every checkpoint scored on the same episodes.

  python -m experiments.study --config=configs/studies/recipes.py
  python -m experiments.study --config=configs/studies/recipes.py \
    --config.recipes=default_lr4e3,exact_1_8 "--config.seeds=(0, 1, 2)"

Recipes are named sets of overrides (learned_rules/studies/recipes.py, RECIPES). A recipe with
records is skipped; a stopped one resumes from its checkpoints in <root>/<recipe>_seed<seed>.
About 5-30 min per recipe and seed at 1500 steps on this 2-core CPU.
"""

from configs.studies import common
from learned_rules.studies.recipes import RECIPES


def get_config():
  config = common.study("recipes", "results/recipes.jsonl")
  config.recipes = tuple(RECIPES)  # recipe names (every one; recorded ones are skipped)
  config.seeds = (0,)  # seeds per recipe
  config.root = "runs/recipes"  # each recipe's workdir (checkpoints kept for the curve)
  config.num_steps = 1500  # meta-steps per recipe (the same for all)
  config.checkpoint_every = 100  # one learning-curve point per checkpoint
  config.eval_k = 8  # the yardstick's load
  config.eval_episodes = 256  # evaluation episodes per point
  config.overrides = ()  # extra 'key=value' overrides for every recipe (e.g. tiny sizes)
  return config
