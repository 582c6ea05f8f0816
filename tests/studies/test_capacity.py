"""The capacity study: the doubling-then-bisection finds the last passing
K of a monotone curve, K* from the records alone agrees with the search, and a small run on a
hand-written and a committed rule resumes without re-evaluating anything."""

import json
import os

import pytest

from learned_rules.studies import capacity, style
from tests.conftest import ROOT
from tests.studies.helpers import replace, study_config


class FakeSearch(capacity.Search):
  """The search over a known accuracy curve: no network runs."""

  def __init__(self, options, curve):
    self.options, self.curve, self.asked = options, curve, []

  def accuracy(self, rule, n, k, layout):
    self.asked.append(k)
    return {"hidden_bit_accuracy": self.curve(k)}


@pytest.mark.parametrize("true_k_star", [0, 1, 2, 3, 7, 12, 13, 37, 38])
def test_search_finds_the_last_passing_load(true_k_star):
  options = study_config("capacity", max_load=0.6)
  search = FakeSearch(options, lambda k: 1.0 if k <= true_k_star else 0.9)
  assert search.k_star("r", 64, "exact") == true_k_star
  assert len(set(search.asked)) <= 2 * 6 + 1  # logarithmic in N, not a scan


def test_search_saturates_at_the_largest_load_searched():
  options = study_config("capacity", max_load=0.5)
  search = FakeSearch(options, lambda k: 1.0)
  assert search.k_star("r", 20, "exact") == 10
  search = FakeSearch(options, lambda k: 1.0 if k <= 9 else 0.0)
  assert search.k_star("r", 20, "exact") == 9


def test_k_star_from_records_stops_at_the_first_failure():
  def rec(k, acc, slots=None):
    return {"rule": "x_s0", "n": 16, "k": k, "slots": slots or k, "hidden_bit_accuracy": acc}

  records = [rec(1, 1.0), rec(2, 0.995), rec(4, 0.95), rec(3, 0.98), rec(6, 0.999)]
  records += [rec(1, 1.0, 8), rec(2, 1.0, 8), rec(4, 0.991, 8), rec(6, 0.95, 8), rec(5, 0.97, 8)]
  table = capacity.k_star_from_records(records, 0.99, 0.6)
  assert table[("x_s0", 16, "exact")] == 2  # 6 passes again, but 3 failed first
  assert table[("x_s0", 16, "trained")] == 4
  rows = capacity.summary(records + [dict(r, rule="x_s1") for r in records[:3]])
  exact = [r for r in rows if r["layout"] == "exact"][0]
  assert (exact["rule"], exact["seeds"], exact["min"], exact["max"]) == ("x", 2, 2, 2)


def test_small_run_on_a_handwritten_and_a_committed_rule_resumes(tmp_path):
  records = str(tmp_path / "capacity.jsonl")
  rule_dir = os.path.join(ROOT, "results", "rules", "default_lr4e3_s0")
  options = study_config(
    "capacity",
    rules=("hebbian_cued", rule_dir),
    sizes=(8,),
    layouts=("exact", "trained"),
    max_load=0.25,  # K <= 2: few compilations
    records=records,
    eval_hidden_bits=256,
    min_episodes=8,
    max_episodes=16,
    batch_size=8,
  )
  found = capacity.run(options)
  assert set(found) == {
    ("hebbian_cued", 8, "exact"),
    ("default_lr4e3_s0", 8, "exact"),
    ("default_lr4e3_s0", 8, "trained"),
  }
  lines = open(records).read().splitlines()
  points = [json.loads(line) for line in lines]
  assert all(0.0 <= p["hidden_bit_accuracy"] <= 1.0 for p in points)
  learned = [p for p in points if p["rule"] == "default_lr4e3_s0"]
  assert {p["slots"] for p in learned if p["slots"] != p["k"]} == {8}  # its 8-slot training layout
  assert capacity.k_star_from_records(points, 0.99, 0.6) == found
  again = capacity.run(options)  # everything is recorded: nothing is evaluated twice
  assert again == found and open(records).read().splitlines() == lines
  text = capacity.markdown(points, "capacity.png")
  assert "| default_lr4e3 | exact |" in text and "| hebbian_cued | exact |" in text  # seeds pooled


@pytest.mark.parametrize(
  "rule, trained_k",
  [
    ("default_lr4e3_s0", 8),  # K in 4..8 on 8 slots: its 'trained' layout has 8 slots
    ("n64_k8_24_s0", 24),  # K in 8..24 on 24 slots
    ("n64_exact_ft_s0", None),  # train.exact_loads: each K on K slots, no blank slots
  ],
)
def test_trained_layout_follows_how_the_rule_was_trained(rule, trained_k):
  bases = study_config("capacity").bases
  config, kind, k = capacity.base_config(os.path.join(ROOT, "results", "rules", rule), bases)
  assert kind == "committed" and k == trained_k


def test_trained_sizes_include_extra_sizes(tmp_path):
  for name, task, train in (
    ("multi_s0", {"pattern_bits": 64}, {"extra_sizes": [16, 32]}),
    ("single_s0", {"pattern_bits": 32}, {"extra_sizes": []}),
  ):
    os.makedirs(tmp_path / "rules" / name)
    with open(tmp_path / "rules" / name / "config.json", "w") as f:
      json.dump({"task": task, "train": train}, f)
  records = [
    {"rule": name, "source": os.path.join("rules", name), "n": 32, "k": 1}
    for name in ("multi_s0", "single_s0")
  ] + [{"rule": "storkey_cued", "source": "storkey_cued", "n": 32, "k": 1}]
  sizes = capacity.trained_sizes(records, root=str(tmp_path))
  assert sizes == {"multi": {16, 32, 64}, "single": {32}}


def test_best_per_size_separates_per_size_rules_from_transfer():
  def row(rule, layout, n, median, seeds=1):
    return {
      "rule": rule,
      "layout": layout,
      "n": n,
      "median": median,
      "min": median,
      "max": median,
      "seeds": seeds,
    }

  rows = [
    row("storkey_cued", "exact", 32, 6),
    row("storkey_cued", "exact", 64, 14),
    row("small", "exact", 32, 9, 3),  # trained at 32 without blank slots
    row("small", "exact", 64, 13, 3),
    row("big", "exact", 32, 0),  # trained at 64 with blank slots first
    row("big", "trained", 32, 10),
    row("big", "exact", 64, 0),
    row("big", "trained", 64, 23),
  ]
  table = {
    (t["n"], t["layout"]): t for t in capacity.best_per_size(rows, {"small": {32}, "big": {64}})
  }
  pick = lambda n, layout, which: (table[(n, layout)][which] or {}).get("rule")
  assert pick(32, "exact", "own") == "small" and pick(32, "exact", "any") == "small"
  # 'small' has no blank-slot layout: its training layout is 'exact', and it competes there too.
  assert pick(32, "trained", "own") == "small" and pick(32, "trained", "any") == "big"
  assert pick(64, "exact", "own") == "big" and pick(64, "exact", "any") == "small"
  assert pick(64, "trained", "own") == "big" and table[(64, "trained")]["ref"]["median"] == 14
  text = "\n".join(capacity._best_markdown(list(table.values()), "storkey_cued"))
  assert "| 64 | trained | 23 `big`, 1 seed | 1.64 |" in text


def test_scanned_loads_are_recorded_and_a_failing_one_lowers_k_star(tmp_path, monkeypatch):
  """A rule that fails at K = 1 but passes from 2 on: the search alone (which starts at 1) says
  0 either way; one that passes at 1 and 2, fails at 3 and passes again at 4..6: the doubling
  search jumps over 3 (1, 2, 4, 8 -> bisects 4..8), the scan catches it."""
  curves = {"dip": lambda k: 0.9 if k == 3 else (1.0 if k <= 6 else 0.5)}

  class Curve(capacity.Search):
    def accuracy(self, rule, n, k, layout):
      key = (rule, n, k, k)
      if key not in self.done:
        acc = curves[rule](k)
        self.done[key] = {"rule": rule, "n": n, "k": k, "slots": k, "hidden_bit_accuracy": acc}
        self.records.append(self.done[key])
      return self.done[key]

  monkeypatch.setattr(capacity, "Search", Curve)
  monkeypatch.setattr(capacity, "base_config", lambda rule, bases: (None, None, None))
  options = study_config("capacity", rules=("dip",), sizes=(16,), records=str(tmp_path / "r.jsonl"))
  assert capacity.run(options)[("dip", 16, "exact")] == 6  # the search alone misses the dip
  scanned = capacity.run(replace(options, scan=(1, 2, 3, 40)))
  assert scanned[("dip", 16, "exact")] == 2  # 40 > max_load N: not evaluated


def test_load_table_reads_each_rules_own_layout():
  def rec(rule, k, slots, acc):
    return {"rule": rule, "n": 64, "k": k, "slots": slots, "hidden_bit_accuracy": acc}

  records = [
    rec("storkey_cued", 1, 1, 1.0),
    rec("storkey_cued", 24, 24, 0.9),
    rec("big_s0", 1, 1, 0.52),  # exact layout: fails at K = 1
    rec("big_s0", 1, 24, 1.0),  # its 24-slot training layout
    rec("big_s0", 24, 24, 0.99),  # K = 24 fills the 24 slots: the same point in both layouts
  ]
  exact = capacity.load_table(records, 64, "exact", (1, 24))
  trained = capacity.load_table(records, 64, "trained", (1, 24))
  assert "| big_s0 | 0.5200 | 0.9900 |" in exact and "| big_s0 | 1.0000 | 0.9900 |" in trained
  assert "| storkey_cued | 1.0000 | 0.9000 |" in trained  # hand-written: exact is its layout
  only = capacity.load_table(records, 64, "exact", (1, 24), rules={"big_s0"})
  assert "big_s0" in only and "storkey_cued" not in only
  complete = capacity.load_table(records, 64, "exact", (1, 2), complete=True)  # K = 2 not run
  assert "big_s0" not in complete and "storkey_cued" not in complete


def test_plot_puts_cued_baselines_and_three_seed_rules_on_the_left(tmp_path):
  def row(rule, layout, n, seeds=1):
    return {"rule": rule, "layout": layout, "n": n, "median": 4, "min": 3, "max": 5, "seeds": seeds}

  rows = [
    row("storkey_cued", "exact", 32),
    row("storkey", "exact", 32),
    row("rule_a", "exact", 32, 3),
    row("rule_a", "trained", 32, 3),
    row("rule_b", "exact", 32, 1),
  ]
  left, right = capacity.plot_panels(rows)
  assert [k for k, _ in left] == [("rule_a", "exact"), ("storkey_cued", "exact")]
  assert [k for k, _ in right] == [("rule_a", "trained"), ("rule_b", "exact"), ("storkey", "exact")]
  records = [
    {"rule": "storkey_cued", "slots": k, "n": 16, "k": k, "hidden_bit_accuracy": a}
    for k, a in ((1, 1.0), (2, 0.995), (4, 0.97))
  ]
  path = tmp_path / "capacity.png"
  capacity.plot(records, str(path))
  for count in (3, 15, 20):  # distinct up to 20 series
    assert len(set(style.colours(range(count)).values())) == count
  assert path.stat().st_size > 1000


def test_bits_per_state_number_counts_each_rules_own_synapse_state(tmp_path):
  from configs import remember
  from learned_rules import experiment

  config = remember.get_config()
  with config.unlocked():
    config.task.pattern_bits = 8
  exp = experiment.build(config)
  for rule, size in capacity.HANDWRITTEN_STATE_SIZE.items():  # the engine keeps what we count
    assert exp.model(rule).rule.synapse_state_size == size, rule
  for name, d_w in (("wide_s0", 4), ("wide_s1", 4), ("narrow_s0", 1)):
    os.makedirs(tmp_path / "rules" / name)
    with open(tmp_path / "rules" / name / "config.json", "w") as f:
      json.dump({"task": {"pattern_bits": 64}, "rule": {"synapse_state_size": d_w}}, f)
  records = [{"rule": n, "source": os.path.join("rules", n)} for n in ("wide_s0", "narrow_s0")]
  sizes = capacity.state_sizes(records, root=str(tmp_path))
  assert sizes["wide"] == 4 and sizes["narrow"] == 1 and sizes["storkey_cued"] == 1
  # 14 patterns of 64 bits on 64 x 63 one-number synapses; 20 on four-number ones.
  assert capacity.bits_per_state_number(14, 64, 1) == pytest.approx(14 / 63)
  assert capacity.bits_per_state_number(20, 64, 4) == pytest.approx(20 / 252)
  rows = [
    {"rule": "wide", "layout": "exact", "n": 64, "median": 20, "min": 19, "max": 23, "seeds": 3},
    {
      "rule": "storkey_cued",
      "layout": "exact",
      "n": 64,
      "median": 14,
      "min": 14,
      "max": 14,
      "seeds": 1,
    },
    {"rule": "wide", "layout": "trained", "n": 64, "median": 30, "min": 30, "max": 30, "seeds": 1},
  ]
  lines = capacity._bits_markdown(rows, sizes)
  assert "| wide | 4 | 0.079 |" in lines and "| storkey_cued | 1 | 0.222 |" in lines
