"""RESULTS.md regenerates from stored records: capacity criterion and the committed report."""

import json
import os
import shutil

import pytest

from learned_rules.studies import report as documents
from learned_rules.studies import sweep_report as report
from tests.conftest import ROOT


def record(rule, k, acc, size=16, **extra):
  base = {
    "kind": "eval",
    "rule": rule,
    "variant": "",
    "topology": "fully_connected",
    "size": size,
    "k": k,
    "hidden_fraction": 0.5,
    "delay": 2,
    "num_neurons": size,
    "hidden_bit_accuracy": acc,
    "bits_per_synapse": 0.1,
    "bits_per_state_float": 0.05,
    "oracle_hidden_bit_accuracy": 1.0,
    "wall_s": 1.0,
    "machine": "2-core CPU, shared",
    "command": "python -m experiments.sweep",
  }
  base.update(extra)
  return base


def test_capacity_is_the_last_k_before_the_first_failure():
  points = {k: record("x", k, a) for k, a in [(1, 1.0), (2, 0.995), (3, 0.98), (4, 0.999)]}
  assert report.capacity(points, 0.99)[0] == 2
  assert report.capacity(points, 0.97)[0] == 4
  assert report.capacity({2: record("x", 2, 0.5)}, 0.99) == (0, None)


def test_generate_from_synthetic_records(tmp_path):
  rows = [
    record("hebbian", 1, 1.0),
    record("hebbian", 2, 0.9),
    record("learned", 1, 1.0),
    record("learned", 2, 0.999),
    record("learned", 3, 0.995),
    record("learned", 4, 0.8),
  ]
  with open(tmp_path / "s.jsonl", "w") as f:
    f.write("\n".join(json.dumps(r) for r in rows) + "\n")
  text = documents.document_text(str(tmp_path / "RESULTS.md"), str(tmp_path))
  assert "| learned | fully_connected | 16 | 16 | 1..4 (4 pts) | 3 | 0.188 |" in text
  assert "| 3.000 |" in text  # learned K* / Hebbian K*
  assert "2-core CPU, shared" in text
  assert (tmp_path / "capacity_vs_size.png").exists()


@pytest.mark.parametrize(
  "cued_rule, cued_variant", [("hebbian_cued", ""), ("hebbian", "rule.free_weight=0.25")]
)
def test_both_spellings_of_the_cued_hebbian_rule_are_its_baseline(
  tmp_path, cued_rule, cued_variant
):
  cued = [record(cued_rule, k, a, variant=cued_variant) for k, a in [(1, 1.0), (2, 1.0), (3, 0.9)]]
  rows = [record("hebbian", 1, 1.0), record("hebbian", 2, 0.9)] + cued
  rows += [record("learned", k, 1.0) for k in (1, 2, 3, 4)]
  with open(tmp_path / "s.jsonl", "w") as f:
    f.write("\n".join(json.dumps(r) for r in rows) + "\n")
  text = documents.document_text(str(tmp_path / "RESULTS.md"), str(tmp_path))
  # learned K* = 4 (the grid's largest: '>=4'), Hebbian K* = 1, cue-weighted Hebbian K* = 2.
  assert "learned K* = >=4, Hebbian K* = 1, ratio 4.00: reached; against the cue-weighted " in text
  assert "Hebbian rule: ratio 2.00." in text


def test_committed_results_regenerate_exactly(tmp_path):
  records_dir = os.path.join(ROOT, "results")
  jsonl = [f for f in os.listdir(records_dir) if f.endswith(".jsonl")]
  if not jsonl or not os.path.exists(os.path.join(ROOT, "RESULTS.md")):
    pytest.skip("no committed records or RESULTS.md")
  shutil.copytree(records_dir, tmp_path / "results", ignore=shutil.ignore_patterns("*.png"))
  for name in documents.HEADERS:
    text = documents.document_text(str(tmp_path / name), str(tmp_path / "results"))
    with open(os.path.join(ROOT, name)) as f:
      assert f.read() == text, f"{name} is stale: run python -m experiments.study --report"
