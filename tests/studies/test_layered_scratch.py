"""The layered-from-scratch study (configs/studies/layered_scratch.py): each variant changes only
its piece at the recipe's budget, and the recipe's two stages train on a tiny layered net."""

import json

import pytest

from configs.studies import layered_scratch
from learned_rules import studies
from tests.studies.helpers import study_config

TINY = (
  "task.pattern_bits=6",
  "topology.hidden_sizes=(8,)",
  "task.store_steps=3",
  "rule.neuron_state_size=4",
  "rule.synapse_state_size=2",
  "rule.message_size=4",
  "rule.hidden_size=8",
  "train.batch_size=4",
  "train.log_every=1",
  "train.checkpoint_every=2",
  "eval.num_episodes=8",
  "eval.batch_size=8",
)


def overrides(config, stage):
  return set(config.stages[stage].overrides)


def test_every_variant_changes_only_its_piece_at_the_recipes_budget():
  recipe = layered_scratch.get_config()
  assert recipe.seeds == (0, 1, 2) and recipe.prefix == "layered_scratch_reset"
  assert recipe.stage_order == ("escape", "plain")
  changes = {*layered_scratch.COMMON, *layered_scratch.BIG_INIT, *layered_scratch.RESET}
  assert overrides(recipe, "escape") == changes | {"train.max_seconds=900"}
  # The plain stage: the unchanged task, the recipe's wider synapse states kept.
  assert not overrides(recipe, "plain") & set(layered_scratch.RESET + layered_scratch.BALANCE)
  assert "train.max_seconds=300" in overrides(recipe, "plain")
  # The same recipe at the variants' 7.5 minutes, three seeds.
  short = layered_scratch.get_config("reset_short")
  assert short.seeds == (0, 1, 2) and short.prefix == "layered_scratch_reset_short"
  escape = overrides(short, "escape")
  assert escape == changes | {"train.max_seconds=300"}
  assert "train.max_seconds=150" in overrides(short, "plain")
  faster = layered_scratch.get_config("reset_lr4e3")
  assert overrides(faster, "escape") == escape | {"train.learning_rate=4e-3"}
  assert overrides(faster, "plain") == overrides(short, "plain")
  changed = {
    "no_big_init": (set(layered_scratch.BIG_INIT), set(layered_scratch.BALANCE)),
    "no_reset": (set(layered_scratch.RESET), set(layered_scratch.BALANCE)),
    "short": (set(), set(layered_scratch.BALANCE)),
  }
  for name, (removed, added) in changed.items():
    config = layered_scratch.get_config(name)
    assert config.prefix == f"layered_scratch_{name}" and config.seeds == (0,)
    assert overrides(config, "escape") == (escape - removed) | added
  # The baseline: one stage on the unchanged task from the default init, the same 450 s.
  baseline = layered_scratch.get_config("random_init")
  assert baseline.stage_order == ("plain",)
  assert overrides(baseline, "plain") == {*layered_scratch.COMMON, "train.max_seconds=450"}
  assert "train.max_seconds=1200" in overrides(layered_scratch.get_config("plain"), "plain")
  assert "train.max_seconds=1200" in overrides(layered_scratch.get_config("escape"), "escape")
  study = studies.load("headline")
  for name in ("", *layered_scratch.VARIANTS):
    study.validate(layered_scratch.get_config(name))
  with pytest.raises(ValueError, match="the variants are"):
    layered_scratch.get_config("no_such_thing")


def test_the_recipe_trains_both_stages_on_a_tiny_layered_net(tmp_path):
  recipe = layered_scratch.get_config()
  config = study_config(
    "headline",
    records=str(tmp_path / "layered_scratch.jsonl"),
    prefix="tiny_scratch",
    seeds=(0,),
    root=str(tmp_path / "runs"),
    rules_dir=str(tmp_path / "rules"),
  )
  with config.unlocked():
    config.base = recipe.base
    config.stage_order = recipe.stage_order
    config.stages = recipe.stages.copy_and_resolve_references()
    for name in config.stage_order:  # tiny sizes and a step count in place of the wall budget
      kept = [o for o in config.stages[name].overrides if not o.startswith("train.max_seconds")]
      config.stages[name].overrides = (*kept, *TINY, "train.num_steps=2")
  study = studies.load("headline")
  study.validate(config)
  found = study.run(config)
  assert [(r["stage"], r["steps"]) for r in found] == [("escape", 2), ("plain", 2)]
  runs = tmp_path / "runs" / "tiny_scratch_s0"
  escape = json.loads((runs / "escape" / "config.json").read_text())
  plain = json.loads((runs / "plain" / "config.json").read_text())
  assert escape["task"]["reset_neurons_at_recall"] and not plain["task"]["reset_neurons_at_recall"]
  assert not escape["task"]["balanced_answers"] and not plain["task"]["balanced_answers"]
  assert escape["rule"]["init"] == plain["rule"]["init"] == "random"
  assert plain["rule"]["synapse_update_scale"] == 0.5 and plain["rule"]["bilinear"]
  assert (tmp_path / "rules" / "tiny_scratch_s0" / "meta_params.msgpack").is_file()
  context = studies.ReportContext(str(tmp_path), str(tmp_path), str(tmp_path / "RESULTS.md"))
  text = "\n".join(study.section(context))
  assert "## Layered nets from a random init, trained stage by stage" in text
  assert "| tiny_scratch | 0 | escape |" in text
