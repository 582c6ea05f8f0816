"""The sweep script end to end on a tiny grid, resumed, and the results script on its records."""

import json
import os

from configs import sweep_common
from experiments import results, sweep


def tiny_sweep_config(tmp_path):
  config = sweep_common.sweep_config("tiny")
  config.records = str(tmp_path / "records" / "tiny.jsonl")
  config.params_dir = str(tmp_path / "records" / "params")
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
  )
  return config


def read(path):
  with open(path) as f:
    return [json.loads(line) for line in f]


def test_sweep_runs_resumes_and_feeds_results(tmp_path):
  config = tiny_sweep_config(tmp_path)
  assert sweep.run(config) == 5  # 2 hand-written rules x 2 loads, 1 learned point
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
  assert len(os.listdir(config.params_dir)) == 1
  # Resumed: nothing left to do, and the trained rule is not retrained.
  assert sweep.run(config) == 0
  assert len(read(config.records)) == len(records)

  output = tmp_path / "RESULTS.md"
  text = results.generate(str(tmp_path / "records"), str(output))
  assert "## Capacity table" in text and "| hebbian | fully_connected | 8 |" in text
  assert (tmp_path / "records" / "memory_location.png").exists()
  assert output.read_text() == text


def test_variants_and_lstm_matching():
  assert sweep.parse_variant("rule.synapse_state_size=1,aggregation=sum") == {
    "rule.synapse_state_size": 1,
    "aggregation": "sum",
  }
  config = sweep_common.sweep_config("x")
  params = sweep.experiment_config(config, "lstm", "lstm_match=params", "fully_connected", 16, 2, 4)
  state = sweep.experiment_config(config, "lstm", "lstm_match=state", "fully_connected", 16, 2, 4)
  # The default learned rule at D = 16: about 4.2k meta-parameters; 240 * 4 + 16 * 8 state floats.
  assert 20 <= params.rule.lstm_hidden_size <= 30
  assert state.rule.lstm_hidden_size == (240 * 4 + 16 * 8) // 2
  cued = sweep.experiment_config(config, "hebbian", "rule.free_weight=0.25", "sparse", 16, 2, 6)
  assert cued.rule.free_weight == 0.25 and cued.topology.fan_in == 4
