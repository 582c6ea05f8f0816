"""The headline study on a tiny config: stages in order, each warm-started from the last, the rule
copied into the rules directory, one record per stage; a rerun trains nothing."""

import json

import flax.serialization

from learned_rules import studies
from learned_rules.train import params_io
from tests.studies.helpers import study_config

TINY = (
  "task.pattern_bits=8",
  "task.k_min=1",
  "task.k_max=2",
  "rule.neuron_state_size=4",
  "rule.synapse_state_size=2",
  "rule.message_size=4",
  "rule.hidden_size=8",
  "train.batch_size=4",
  "train.log_every=1",
  "train.checkpoint_every=2",
)


def tiny_config(tmp_path):
  config = study_config(
    "headline",
    records=str(tmp_path / "headline.jsonl"),
    prefix="tiny",
    seeds=(0,),
    root=str(tmp_path / "runs"),
    rules_dir=str(tmp_path / "rules"),
    stage_order=("base", "exact"),
  )
  config.stages.base.overrides = (*TINY, "train.num_steps=3")
  # An override with commas inside brackets, as the real 'exact' stage has.
  config.stages.exact.overrides = (*TINY, "train.exact_loads=(1, 2)", "train.num_steps=2")
  return config


def test_headline_trains_stage_by_stage_and_publishes(tmp_path):
  config = tiny_config(tmp_path)
  study = studies.load("headline")
  study.validate(config)
  found = study.run(config)
  assert [(r["stage"], r["steps"]) for r in found] == [("base", 3), ("exact", 2)]

  exact = tmp_path / "runs" / "tiny_s0" / "exact"
  saved = json.loads((exact / "config.json").read_text())
  assert saved["train"]["init_params_file"] == str(
    tmp_path / "runs" / "tiny_s0" / "base" / params_io.PARAMS_FILE
  )
  assert tuple(saved["train"]["exact_loads"]) == (1, 2)

  rule = tmp_path / "rules" / "tiny_s0"
  assert (rule / params_io.PARAMS_FILE).read_bytes() == (exact / params_io.PARAMS_FILE).read_bytes()
  flax.serialization.msgpack_restore((rule / params_io.PARAMS_FILE).read_bytes())

  again = study.run(config)  # everything recorded: nothing trains, the same records come back
  assert [r["stage"] for r in again] == ["base", "exact"]
  assert len((tmp_path / "headline.jsonl").read_text().splitlines()) == 2
  assert any("| tiny | 0 | exact |" in line for line in study.section(_context(tmp_path)))


def _context(tmp_path):
  return studies.ReportContext(str(tmp_path), str(tmp_path), str(tmp_path / "RESULTS.md"))
