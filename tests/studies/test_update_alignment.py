"""The update-alignment study on a tiny layered net: known answers from the engine's own
perceptron rules, the hand-set start's Hebbian write, records, resume, report and bad inputs."""

import pathlib

import pytest

from learned_rules.common.errors import ConfigError
from learned_rules.studies import ReportContext
from learned_rules.studies import update_alignment as alignment
from tests.studies.helpers import study_config

ROOT = pathlib.Path(__file__).resolve().parents[2]
HAND_SET_START = str(ROOT / "results" / "rules" / "layered_hebbian_start")
TINY = ("task.pattern_bits=8", "topology.hidden_sizes=(12,)")


def options(tmp_path, **changes):
  fields = dict(
    rules=("delta_features", "backprop", HAND_SET_START),
    ks=(2,),
    episodes=3,
    overrides=TINY,
    records=str(tmp_path / "update_alignment.jsonl"),
    machine="test machine",
  )
  return study_config("update_alignment", **(fields | changes))


@pytest.fixture(scope="module")
def study(tmp_path_factory):
  tmp = tmp_path_factory.mktemp("alignment")
  config = options(tmp)
  alignment.validate(config)
  found = alignment.run(config)
  return tmp, config, {r["rule"]: r for r in found}


def cosines(record, layer, reference):
  return record["layers"][layer][reference]["cosine"]


def test_the_delta_rule_measured_through_the_harness_is_the_delta_reference(study):
  _, _, found = study
  record = found["delta_features"]
  delta = cosines(record, "hidden_output", "delta")
  assert delta["n"] == 2 * 3 and delta["undefined"] == 0
  assert delta["q5"] > 0.999  # every pair's write is (t - y) a, up to its positive rate
  # Through the answer: a linear answer layer moves by exactly rate x (t - y), whole or linear.
  for space, fit in (("answer", "answer_fit"), ("answer_linear", "answer_linear_fit")):
    assert record["answer_space"][space]["delta"]["cosine"]["q5"] > 0.999
    assert record[fit]["beta_over_alpha"]["q5"] == pytest.approx(1.0, abs=1e-3)
    assert record[fit]["beta_over_alpha"]["q95"] == pytest.approx(1.0, abs=1e-3)
  # Its hidden weights are frozen: no update, so no direction to compare.
  frozen = cosines(record, "input_hidden", "backprop")
  assert frozen["n"] == 0 and frozen["undefined"] == 2 * 3


def test_backprop_matches_its_own_gradient_and_the_delta_rule_on_its_linear_outputs(study):
  _, config, found = study
  record = found["backprop"]
  # Squared error of a linear answer layer: its gradient is the delta rule's (t - y) a.
  assert record["checks"]["delta_vs_backprop"]["q5"] > 0.9999
  rate = config.bases.remember_layered.rule.backprop_learning_rate
  for layer in alignment.LAYERS:
    assert cosines(record, layer, "backprop")["q5"] > 0.999
    scale = record["layers"][layer]["backprop"]["scale"]
    assert scale["q5"] == pytest.approx(rate, rel=1e-3)  # one SGD step at its learning rate
    assert scale["q95"] == pytest.approx(rate, rel=1e-3)


def test_the_hand_set_start_writes_hebbian_into_its_output_layer_only(study):
  _, _, found = study
  record = found["layered_hebbian_start"]
  assert record["weight"].startswith("gate read-out")
  # Its write is scale * tanh(eta * tanh(a * h_out)) with h_out driven by the taught value.
  assert cosines(record, "hidden_output", "hebbian")["q50"] > 0.95
  # Through the answer, to first order, the write adds the target and ignores the answer...
  linear = record["answer_space"]["answer_linear"]
  assert linear["hebbian"]["cosine"]["q50"] > 0.95
  assert abs(record["answer_linear_fit"]["beta_over_alpha"]["q50"]) < 0.2
  # ... while the whole write saturates the answer onto the target, which reads as delta.
  assert record["answer_fit"]["beta_over_alpha"]["q50"] > 0.5
  # Input neurons carry nothing on the written component: the input layer never changes.
  assert cosines(record, "input_hidden", "hebbian")["n"] == 0
  assert 0.0 <= record["answer_bits_right"] <= 1.0


def test_records_are_written_once_and_the_section_renders(study, monkeypatch):
  tmp, config, found = study
  path = tmp / "update_alignment.jsonl"
  before = path.read_text()
  assert len(before.splitlines()) == 3
  assert all(r["machine"] == "test machine" and r["k"] == 2 for r in found.values())
  monkeypatch.setattr(alignment, "pair_alignment", lambda *a, **k: pytest.fail("re-measured"))
  again = alignment.run(config)
  assert len(again) == 3 and path.read_text() == before

  context = ReportContext(str(tmp), str(tmp), str(tmp / "RESULTS.md"))
  text = "\n".join(alignment.section(context))
  assert text.startswith("## Storage updates against the delta rule")
  assert "| layered_hebbian_start | 2 | hidden → output |" in text
  assert "| delta_features | 2 | input → hidden | - |" in text
  assert "| linear: cos(dy, t - y) |" in text and "| layered_hebbian_start | 2 | 0." in text
  assert "![update alignment](update_alignment.png)" in text
  assert (tmp / "update_alignment.png").stat().st_size > 0


def test_bad_inputs_name_the_key(tmp_path):
  bad = {
    "episodes": dict(episodes=0),
    r"ks\[1\]=-1": dict(ks=(2, -1)),
    "carrier_units": dict(carrier_units=(0, 99)),
    "rules: 'nowhere'": dict(rules=("nowhere",)),
    "hidden_sizes": dict(overrides=(*TINY, "topology.hidden_sizes=(4, 4)")),
    "task.teaching": dict(overrides=(*TINY, "task.teaching=False")),
  }
  for key, changes in bad.items():
    with pytest.raises(ConfigError, match=key):
      alignment.validate(options(tmp_path, **changes))
