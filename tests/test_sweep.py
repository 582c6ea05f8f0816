"""The sweep end to end on a tiny grid, resumed, and the report on its records; the grid's rules."""

import json
import os

import pytest

from configs.studies import sweep_common, sweep_handwritten
from learned_rules.common.errors import ConfigError
from learned_rules.studies import report as documents
from learned_rules.studies import sweep as runner
from learned_rules.studies import sweep_grid as grid
from learned_rules.train import trainer

BASE = sweep_common.sweep_config("x")


def tiny_sweep_config(tmp_path, **learned):
  config = sweep_common.sweep_config("tiny")
  config.machine = "2-core CPU, shared"
  config.records = str(tmp_path / "records" / "tiny.jsonl")
  config.params_dir = str(tmp_path / "records" / "params")
  config.work_dir = str(tmp_path / "runs")
  config.eval_hidden_bits = 32
  config.eval_min_episodes = 4
  config.eval_max_episodes = 4
  config.eval_batch_size = 4
  config.probe_loads = (0.125,)
  config.probe_episodes = 4
  config.groups.a = sweep_common.group(
    rules=("hebbian", "storkey"), sizes=(8,), loads=(0.125, 0.25)
  )
  config.groups.b = sweep_common.group(
    rules=("learned",),
    sizes=(8,),
    loads=(0.25,),
    train_size=8,
    train_k=(1, 2),
    train_steps=2,
    train_batch_size=2,
    **learned,
  )
  return config


def read(path):
  with open(path) as f:
    return [json.loads(line) for line in f]


def test_sweep_runs_resumes_and_feeds_the_report(tmp_path):
  config = tiny_sweep_config(tmp_path)
  assert runner.run(config) == 5  # 2 hand-written rules x 2 loads, 1 learned point
  records = read(config.records)
  kinds = [r["kind"] for r in records]
  assert kinds.count("eval") == 5 and kinds.count("train") == 1
  evals = [r for r in records if r["kind"] == "eval"]
  for r in evals:
    assert 0.0 <= r["hidden_bit_accuracy"] <= 1.0
    assert r["machine"] == "2-core CPU, shared"
    assert r["episodes"] == 4
  assert {r["k"] for r in evals} == {1, 2}
  probed = [r for r in evals if "probe" in r]
  assert {(r["rule"], r["k"]) for r in probed} == {("hebbian", 1), ("storkey", 1)}
  (train,) = [r for r in records if r["kind"] == "train"]
  assert train["steps_done"] == 2 and train["stopped"] == "num_steps"
  assert [h["step"] for h in train["history"]] == [2]  # log_every = 50, and the last step
  assert {"seconds", "loss", "hidden_bit_accuracy"} <= set(train["history"][0])
  # Trained by the trainer in the rule's own workdir; parameters saved under the same hash.
  (name,) = os.listdir(config.params_dir)
  assert train["params_file"] == os.path.join(config.params_dir, name)
  assert os.listdir(config.work_dir) == [name.removesuffix(".msgpack")]
  # Resumed: nothing left to do, and the trained rule is not retrained.
  assert runner.run(config) == 0
  assert len(read(config.records)) == len(records)

  output = tmp_path / "RESULTS.md"
  text = documents.document_text(str(output), str(tmp_path / "records"))
  output.write_text(text)
  assert "## Capacity table" in text and "| hebbian | fully_connected | 8 |" in text
  assert (tmp_path / "records" / "memory_location.png").exists()
  assert output.read_text() == text


def test_a_rule_whose_training_turns_non_finite_is_recorded_and_skipped(tmp_path):
  config = tiny_sweep_config(tmp_path)
  del config.groups["a"]
  assert runner.run(config, debug=trainer.DebugHooks(poison_step=1)) == 0
  (train,) = read(config.records)
  assert train["kind"] == "train" and train["params_file"] is None
  assert "non-finite loss at step 1" in train["stopped"]
  # Later runs skip it (delete its record to retry) without training again.
  assert runner.run(config) == 0
  assert len(read(config.records)) == 1 and not os.path.exists(config.params_dir)


def test_variants_and_lstm_matching():
  assert grid.parse_variant("rule.synapse_state_size=1,aggregation=sum") == {
    "rule.synapse_state_size": 1,
    "aggregation": "sum",
  }
  config = sweep_common.sweep_config("x")
  params = grid.experiment_config(config, "lstm", "lstm_match=params", "fully_connected", 16, 2, 4)
  state = grid.experiment_config(config, "lstm", "lstm_match=state", "fully_connected", 16, 2, 4)
  # The default learned rule at D = 16: about 4.2k meta-parameters; 240 * 4 + 16 * 8 state floats.
  assert 20 <= params.rule.lstm_hidden_size <= 30
  assert state.rule.lstm_hidden_size == (240 * 4 + 16 * 8) // 2
  sparse = grid.experiment_config(config, "hebbian_cued", "", "sparse", 16, 2, 6)
  assert sparse.rule.name == "hebbian_cued" and sparse.topology.fan_in == 4


def test_a_variant_may_set_only_existing_keys():
  config = sweep_common.sweep_config("x")
  for variant in ("rule.free_wieght=0.5", "rule=3", "nothing.here=1"):
    with pytest.raises(ConfigError, match=variant.split("=")[0]):
      grid.experiment_config(config, "hebbian", variant, "fully_connected", 16, 2, 6)
  config.groups.a = sweep_common.group(rules=("learned",), variants=("rule.hiden_size=4",))
  with pytest.raises(ConfigError, match="groups.a: .*'rule.hiden_size'"):
    grid.validate(config)
  with pytest.raises(KeyError, match="train_step"):
    sweep_common.group(train_step=3)


def test_which_rules_are_trained_comes_from_their_models():
  assert grid.rule_kind("learned", BASE) == grid.RuleKind(trained=True, has_neurons=True)
  assert grid.rule_kind("frozen", BASE).trained
  assert grid.rule_kind("lstm", BASE) == grid.RuleKind(trained=True, has_neurons=False)
  for name in ("hebbian", "storkey_cued", "delta"):
    assert grid.rule_kind(name, BASE) == grid.RuleKind(trained=False, has_neurons=True)
  with pytest.raises(ConfigError, match="hebbian_cue"):
    grid.rule_kind("hebbian_cue", BASE)


def test_records_with_the_old_spelling_of_a_cued_rule_count_as_done():
  legacy = {"rule": "storkey", "variant": "rule.free_weight=0.25", "k": 3}
  assert grid.canonical(legacy) == {"rule": "storkey_cued", "variant": "", "k": 3}
  other = {"rule": "delta", "variant": "rule.free_weight=0.5,aggregation=sum"}
  assert grid.canonical(other) == {"rule": "delta_cued", "variant": other["variant"]}
  learned = {"rule": "learned", "variant": "rule.free_weight=0.25"}  # no 'learned_cued'
  assert grid.canonical(learned) == learned
  # The committed records hold the old spelling: rerunning the hand-written sweep does nothing.
  config = sweep_handwritten.get_config()
  done, failed = runner.read_records(config.records)
  assert not failed
  assert [p for p in grid.points(config) if grid.point_key(p) not in done] == []


def test_a_record_line_cut_off_by_a_kill_is_dropped(tmp_path):
  path = tmp_path / "records.jsonl"
  path.write_text('{"key": "{}", "kind": "eval"}\n{"key": "{\\"gro')
  runner.drop_cut_off_line(str(path))
  assert path.read_text() == '{"key": "{}", "kind": "eval"}\n'
  assert runner.read_records(str(path)) == ({"{}"}, set())
