"""The TVAE table study end to end on a tiny budget: rows, controls, cache, report, pictures."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from learned_rules.studies import tvae_table as results
from learned_rules.tvae import data as data_lib
from learned_rules.tvae import train
from tests.studies.helpers import study_config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = (
  "model.n_caps=2",
  "model.cap_dim=4",
  "batch_size=2",
  "eval_batch_size=4",
  "is_samples=2",
  "num_picture_sequences=2",
  "data.synthetic_size=8",
  "data.seq_len=6",
  "model.time_window=3",
)
LABELS = (  # a row, its time-shuffled control, a row without data (compiling is what costs)
  "TVAE L=13/36",
  "TVAE L=13/36, time-shuffled",
  "TVAE L=13/36 (Fashion-MNIST)",
)


def tiny_options(tmp_path, **changes):
  return study_config(
    "tvae_table",
    root=str(tmp_path / "runs"),
    figures_dir=str(tmp_path / "figures"),
    dataset="synthetic",
    fashion_data_dir=str(tmp_path / "no_fashion_here"),
    max_steps=2,
    train_size=8,
    eval_size=4,
    overrides=TINY,
    records=str(tmp_path / "tvae_reports.jsonl"),
    **changes,
  )


@pytest.fixture(scope="module")
def report(tmp_path_factory):
  tmp_path = tmp_path_factory.mktemp("results")
  with pytest.MonkeyPatch.context() as monkeypatch:
    monkeypatch.setattr(results, "ROWS", tuple(r for r in results.ROWS if r.label in LABELS))
    monkeypatch.setattr(data_lib, "FASHION_MNIST_DIR", str(tmp_path / "no_system_fashion"))
    options = tiny_options(tmp_path)
    rows = results.run_all(options)
    out = str(tmp_path / "RESULTS_TVAE.md")
    text = results.markdown(rows, options, out)
    # Rebuilding the report trains and evaluates nothing: every row comes from its cache.
    monkeypatch.setattr(train, "train_and_evaluate", lambda *a, **k: pytest.fail("retrained"))
    again = results.run_all(options)
  return tmp_path, options, rows, again, text


def test_every_row_and_control_ran_on_the_asked_budget(report):
  tmp_path, options, rows, again, _ = report
  for label in LABELS[:2]:
    trained = rows[label]
    assert trained["steps"] == 2 and trained["budget"]["max_steps"] == 2, label
    assert trained["train_seconds"] > 0 and "machine" in trained and "evaluated_at" in trained
    assert np.isfinite(trained["pixel_equivariance_error"]), label
  untrained = rows["TVAE L=13/36 untrained"]
  assert untrained["steps"] == 0 and untrained["budget"]["num_epochs"] == 0
  assert untrained["mu"] == 30.0  # the initial μ: no update was applied
  assert rows["TVAE L=13/36"]["mu"] != 30.0
  assert rows["TVAE L=13/36, time-shuffled"]["time_shuffle"] is True
  assert not rows["TVAE L=13/36"]["time_shuffle"]
  assert "TVAE L=13/36, time-shuffled untrained" not in rows  # its control is L=13/36's
  assert "no_data" in rows["TVAE L=13/36 (Fashion-MNIST)"]
  assert json.dumps(again, sort_keys=True) == json.dumps(rows, sort_keys=True)


def test_a_row_sharing_training_starts_from_the_other_rows_checkpoints(tmp_path):
  options = tiny_options(tmp_path)
  row = next(r for r in results.ROWS if r.label == "TVAE L=13/36, generalization")
  config = results.row_config(row, options)
  assert config.data.eval_transforms == "rotation+hue"
  source = tmp_path / "runs" / "TVAE_L_13_36" / "checkpoints" / "2"
  source.mkdir(parents=True)
  (source / "state").write_text("weights")
  workdir = str(tmp_path / "runs" / "TVAE_L_13_36__generalization")
  results.share_training(row, config, options, workdir)
  assert (
    tmp_path / "runs" / "TVAE_L_13_36__generalization" / "checkpoints" / "2" / "state"
  ).read_text() == "weights"
  # A row whose training differs (here its learning rate) must not borrow the checkpoints.
  config.learning_rate = 0.5
  with pytest.raises(ValueError, match="differ in more than their evaluation"):
    results.share_training(row, config, options, str(tmp_path / "other"))


def test_report_has_tables_controls_paired_differences_and_pictures(report):
  tmp_path, options, rows, _, text = report
  for needle in (
    "## MNIST transformation sequences",
    "↳ untrained control",
    "TVAE L=13/36 − untrained (n = 4)",
    "TVAE L=13/36 − time-shuffled (n = 4)",
    "no − log N",
    "pixel eq. error",
    "TVAE L=13/36 (Fashion-MNIST): no Fashion-MNIST IDX files",
    "Generated 20",
  ):
    assert needle in text, needle
  # Paired differences are computed from the per-sequence files, sequence by sequence.
  a = np.load(tmp_path / "runs" / "TVAE_L_13_36" / "eval_per_sequence.npz")
  b = np.load(tmp_path / "runs" / "TVAE_L_13_36_untrained" / "eval_per_sequence.npz")
  np.testing.assert_allclose(a["frame_sums"], b["frame_sums"])
  diff = a["log_likelihood"] - b["log_likelihood"]
  assert f"{np.median(diff):,.1f} [" in text.split("TVAE L=13/36 − untrained (n = 4)")[1]
  np.testing.assert_allclose(np.mean(a["log_likelihood"]), rows["TVAE L=13/36"]["log_likelihood"])
  gain = a["pixel_equivariance_error"] - a["pixel_static_error"]  # rolling t vs not, per sequence
  rolling = text.split("pixel eq. error − own reconstruction |")[1]
  assert f"| TVAE L=13/36 | {np.median(gain):,.4f} [" in rolling
  assert rolling.count("| TVAE L=13/36 untrained |") == 1  # the shared control is listed once
  for kind in results.PICTURES:
    path = tmp_path / "figures" / f"TVAE_L_13_36_{kind}.png"
    assert path.exists() and f"figures/TVAE_L_13_36_{kind}.png" in text
  # The stacked picture is the trained one above the untrained one, with a grey band between.
  trained = results.figures.read_png(str(tmp_path / "runs" / "TVAE_L_13_36" / "samples.png"))
  stacked = results.figures.read_png(str(tmp_path / "figures" / "TVAE_L_13_36_samples.png"))
  assert stacked.shape[0] > 2 * trained.shape[0]
  untrained = results.figures.read_png(
    str(tmp_path / "runs" / "TVAE_L_13_36_untrained" / "samples.png")
  )
  top = stacked[: trained.shape[0], : trained.shape[1]]
  bottom = stacked[-untrained.shape[0] :, : untrained.shape[1]]
  assert np.mean(np.abs(top - trained)) < 0.02  # (256-colour palette: small quantization)
  assert np.mean(np.abs(bottom - untrained)) < 0.02
  assert os.path.getsize(tmp_path / "figures" / "TVAE_L_13_36_samples.png") < 150_000


def test_entry_point_rebuilds_the_report_from_the_cache(report):
  tmp_path, options, *_ = report
  records = tmp_path / "from_cli.jsonl"
  command = [
    sys.executable,
    "-m",
    "experiments.study",
    "--config=configs/studies/tvae_table.py",
    "--config.reuse=True",
    f"--config.root={options.root}",
    f"--config.figures_dir={options.figures_dir}",
    f"--config.records={records}",
    "--config.dataset=synthetic",
    "--config.max_steps=2",
    "--config.train_size=8",
    "--config.eval_size=4",
    f"--config.fashion_data_dir={tmp_path / 'no_fashion_here'}",
    f"--config.overrides={TINY!r}",
  ]
  result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  (record,) = [json.loads(line) for line in records.read_text().splitlines()]
  text = "\n".join(record["lines"])
  assert "TVAE L=13/36 − untrained (n = 4)" in text
  assert "| BubbleVAE | not run |" in text  # rows never trained in this root
