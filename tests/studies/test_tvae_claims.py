"""The claims table: paired by seed from tvae_curves and tvae_organization records, counted right,
and in RESULTS_TVAE.md's shape."""

import pytest

from learned_rules.common import records as records_io
from learned_rules.common.errors import ConfigError
from learned_rules.studies import ReportContext
from learned_rules.studies import tvae_claims as claims
from tests.studies.helpers import study_config


def curve(run, row, seed, log_p, eq, pixel, untrained=(-1600.0, 900.0, 0.23), finished=True):
  keys = ("log_likelihood", "equivariance_error", "pixel_equivariance_error")
  return {
    "kind": "tvae_curve",
    "run": run,
    "row": row,
    "seed": seed,
    "finished": finished,
    "epochs": [5.0, 10.0],
    "trained": {k: [v - 1.0, v] for k, v in zip(keys, (log_p, eq, pixel), strict=True)},
    "untrained": dict(zip(keys, untrained, strict=True)),
    "machine": "test machine",
  }


def organization(run, row, seed, dprime, untrained_dprime, chance_dprime, nbr, nbr_untrained):
  return {
    "kind": "tvae_organization",
    "run": run,
    "row": row,
    "seed": seed,
    "epochs": 10.0,
    "trained": {"mean_selectivity": dprime, "smoothness": nbr, "shuffled_smoothness": 0.1},
    "untrained": {"mean_selectivity": untrained_dprime, "smoothness": nbr_untrained},
    "labels_shuffled": {"mean_selectivity": chance_dprime},
    "machine": "test machine",
  }


@pytest.fixture
def records_dir(tmp_path):
  path = str(tmp_path / "tvae_curves.jsonl")
  for record in (
    curve("T_s0", "TVAE L=13/36", 0, -195.0, 1000.0, 0.012),
    curve("T_s1", "TVAE L=13/36", 1, -205.0, 950.0, 0.013),  # below the VAE on log p
    curve("T_s2", "TVAE L=13/36", 2, -190.0, 800.0, 0.011, finished=False),  # not paired
    curve("V_s0", "VAE", 0, -200.0, 13000.0, 0.05),
    curve("V_s1", "VAE", 1, -201.0, 13000.0, 0.05),
    curve("V_s2", "VAE", 2, -150.0, 13000.0, 0.05),  # no finished partner
  ):
    records_io.append(path, record)
  path = str(tmp_path / "tvae_organization.jsonl")
  records_io.append(path, organization("T", "TVAE L=13/36", 0, 0.5, 0.05, 0.02, 0.99, 0.75))
  records_io.append(path, organization("B", "BubbleVAE", 0, 0.04, 0.05, 0.02, 0.5, 0.75))
  return tmp_path


def test_claims_pair_finished_runs_by_seed_and_count_each_comparison(records_dir):
  curves, found = claims.read_records(str(records_dir))
  log_p = claims.paired(curves, "log_likelihood", True)
  assert log_p["seeds"] == [0, 1] and log_p["better"] == 1 and log_p["beats_untrained"] == 2
  assert log_p["differences"] == [5.0, -4.0]
  eq = claims.paired(curves, "equivariance_error", False)
  assert eq["better"] == 2 and eq["beats_untrained"] == 0  # 1000 and 950 against 900 untrained
  text = "\n".join(claims.run(study_config("tvae_claims", records_dir=str(records_dir))))
  assert "higher than VAE on 1 of 2 seeds" in text
  assert "lower than VAE on 2 of 2 seeds; better than its untrained model on 0 of 2" in text
  assert "d' above both controls on 1 of 1 seeds; neighbours agree more than both" in text
  assert "d' above both controls on 0 of 1 seeds; neighbours agree not more" in text


def test_the_section_is_the_table_and_empty_without_records(records_dir, tmp_path_factory):
  context = ReportContext(str(records_dir), str(records_dir), str(records_dir / "R.md"))
  lines = claims.section(context)
  assert lines[0] == "## The abstract's claims against these rows"
  assert any(line.startswith("| higher likelihood") for line in lines)
  empty = tmp_path_factory.mktemp("empty")
  assert claims.section(ReportContext(str(empty), str(empty), str(empty / "R.md"))) == []
  with pytest.raises(ConfigError, match="no tvae_curves or tvae_organization records"):
    claims.run(study_config("tvae_claims", records_dir=str(empty)))
