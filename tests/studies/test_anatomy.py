"""The storage-update measurement against closed forms: Hebbian adds x_post x_pre per store step
(P = 2: +-2, no spread); Storkey's first pattern into zero weights is x_post x_pre / n, written
one step late (lag 1); and the records round-trip into the RESULTS.md section."""

import json
import os

import numpy as np
import pytest

from learned_rules.studies import anatomy
from tests.conftest import ROOT
from tests.studies.helpers import study_config

BASES = study_config("anatomy").bases


def config(rules, n, k, probe_loads, records, episodes):
  """The anatomy study's config for a tiny measurement."""
  return study_config(
    "anatomy",
    rules=tuple(rules),
    n=n,
    k=k,
    probe_loads=tuple(probe_loads),
    records=records,
    episodes=episodes,
  )


def test_one_pattern_into_fresh_weights_is_the_closed_form(tmp_path):
  records = anatomy.run(config(["hebbian", "storkey"], 8, 1, [], str(tmp_path / "a.jsonl"), 4))
  for update, (lag, size) in zip(records, [(0, 2.0), (1, 1 / 8)], strict=True):
    check(update, lag, size)


def check(update, lag, size):
  assert update["lag"] == lag and len(update["components"]) == 1
  groups = update["components"][0]["groups"]
  for key, group in groups.items():
    sign = int(key[:2]) * int(key[2:])  # x_post x_pre
    np.testing.assert_allclose(group["mean"], sign * size, rtol=1e-5)
    assert group["std"] < 1e-6
  assert update["components"][0]["corr_with_product"] == pytest.approx(1.0, abs=1e-6)


def test_records_make_the_section_and_a_rerun_replaces_them(tmp_path):
  path = str(tmp_path / "a.jsonl")
  records = anatomy.run(config(["hebbian"], 8, 2, [1], path, 2))
  assert [r["kind"] for r in records] == [anatomy.UPDATE, anatomy.PROBE]
  probe = records[1]
  assert probe["intact"] == 1.0 and probe["synapse_fraction"] == pytest.approx(1.0)
  text = anatomy.markdown(records, "x.png")
  assert (
    "| hebbian | 8 | 2 | 0 | w[0] | +2.0000 ± 0.0000 |" in text and "| hebbian | 8 | 1 |" in text
  )
  anatomy.plot(records, str(tmp_path / "x.png"))
  assert (tmp_path / "x.png").stat().st_size > 0
  again = anatomy.run(config(["hebbian"], 8, 2, [], path, 2))  # the rule's old records go
  assert [r["kind"] for r in again] == [anatomy.UPDATE]
  assert anatomy.read_records(path) == again


def test_table_columns_follow_the_header_after_a_round_trip_through_the_file(tmp_path):
  """Records are written with sorted keys ('+1+1' first); the table's columns must still be
  (−,−), (−,+), (+,−), (+,+) (a mirrored table went unnoticed while every rule shown was
  symmetric)."""
  means = {"-1-1": 1.0, "-1+1": 2.0, "+1-1": 3.0, "+1+1": 4.0}
  component = {
    "groups": {k: {"mean": v, "std": 0.0} for k, v in means.items()},
    "corr_with_product": 0.5,
    "rms": 1.0,
  }
  record = {"kind": anatomy.UPDATE, "rule": "r", "n": 8, "k": 2, "lag": 0, "episodes": 1}
  record |= {"components": [component], "patterns": 2, "wall_s": 0.0, "machine": "m"}
  path = tmp_path / "a.jsonl"
  path.write_text(json.dumps(record, sort_keys=True) + "\n")
  text = anatomy.markdown(anatomy.read_records(str(path)))
  assert "| r | 8 | 2 | 0 | w[0] | +1.0000 ± 0.0000 | +2.0000 ± 0.0000 | +3.0000 ± 0.0000 |" in text
  assert "(−,−) | (−,+) | (+,−) | (+,+)" in text


def test_committed_rule_overrides_reach_the_rule_and_bad_ones_say_why():
  from learned_rules.common.errors import ConfigError

  rule = os.path.join(ROOT, "results", "rules", "default_lr4e3_s0")
  label, config, _, model, _ = anatomy.rule_setup(
    rule + "@rule.frozen_synapse_components=2", 8, 2, BASES
  )
  assert label == "default_lr4e3_s0@frozen_synapse_components=2"
  assert tuple(config.rule.frozen_synapse_components) == (2,)
  assert model.rule.frozen_synapse_components == (2,)
  assert anatomy.parse_rule("a/b@rule.hand_eta=0.5;rule.x=(1, 2)") == (
    "a/b",
    {"rule.hand_eta": 0.5, "rule.x": (1, 2)},
  )
  with pytest.raises(ConfigError, match="not a key"):
    anatomy.rule_setup(rule + "@rule.no_such_key=1", 8, 2, BASES)
  with pytest.raises(ConfigError, match="key=value"):
    anatomy.parse_rule("a/b@rule.hand_eta")
  with pytest.raises(ConfigError, match="committed rule directory only"):
    anatomy.rule_setup("hebbian@rule.hand_eta=1.0", 8, 2, BASES)
