"""The TVAE organization study on a tiny run with labelled digits: records, controls, cache,
report, errors; and the d' statistic against a direct computation."""

import jax
import numpy as np
import pytest

from learned_rules.common.errors import ConfigError
from learned_rules.common.overrides import parse_value, set_key
from learned_rules.studies import ReportContext
from learned_rules.studies import tvae_organization as study_lib
from learned_rules.tvae import data as data_lib
from learned_rules.tvae import organization as org
from learned_rules.tvae import train
from tests.studies.helpers import study_config
from tests.studies.test_tvae_table import TINY


def labelled_digits(data_dir, n=40):
  """MNIST-format train and test files of synthetic digits, a label each (class k: k strokes'
  brightness steps), so the study reads them as it reads MNIST."""
  data_dir.mkdir(parents=True)
  for split, seed in (("train", 0), ("test", 1)):
    images = data_lib.synthetic_digits(n, seed)
    labels = np.arange(n) % 10
    images = images * (0.3 + 0.07 * labels[:, None, None])
    images_name, labels_name = data_lib.MNIST_FILES[split]
    data_lib.write_idx(str(data_dir / (images_name + ".gz")), np.round(images * 255))
    data_lib.write_idx(str(data_dir / (labels_name + ".gz")), labels)


def tiny_run(workdir, data_dir, seed=0):
  from configs.tvae import mnist

  config = mnist.get_config()
  for item in (
    *TINY,
    "data.dataset=mnist",
    f"data.data_dir={data_dir}",
    "eval_size=4",
    "max_steps=3",
    "eval_every_epochs=0",
    "log_every=1",
    f"seed={seed}",
  ):
    key, value = item.split("=", 1)
    set_key(config, key, parse_value(value), "test")
  workdir.mkdir(parents=True)
  (workdir / "config.json").write_text(config.to_json())  # as experiments.main writes it
  train.train_and_evaluate(config, str(workdir))
  return config


@pytest.fixture(scope="module")
def study(tmp_path_factory):
  tmp = tmp_path_factory.mktemp("organization")
  labelled_digits(tmp / "digits")
  config = tiny_run(tmp / "runs" / "T_s0", tmp / "digits")
  options = study_config(
    "tvae_organization",
    root=str(tmp / "runs"),
    runs=("T_s0|TVAE tiny", "not_trained_yet|TVAE tiny"),
    records=str(tmp / "tvae_organization.jsonl"),
    num_images=30,
    batch_size=8,
  )
  study_lib.validate(options)
  found = study_lib.run(options)
  return tmp, options, config, found


def test_the_record_is_the_checkpoint_and_the_initial_parameters_on_the_same_digits(study):
  tmp, options, config, found = study
  (record,) = found  # the run without a workdir is skipped, not an error
  assert record["step"] == 3 and record["seed"] == 0 and record["grid"] == [2, 4]
  run_cfg, model, params = org.restore_params(str(tmp / "runs" / "T_s0"))
  images, labels = study_lib.test_digits(run_cfg, 30, 0)
  assert len(set(labels)) > 5 and len(labels) == 30  # a subset of the 40, in no sorted order
  assert record["class_counts"] == np.bincount(labels, minlength=10).tolist()
  make = org.sequence_maker(run_cfg)
  key = jax.random.PRNGKey(0)
  trained = org.class_map(params, model, images, labels, key, make, 8)
  untrained = org.class_map(
    org.untrained_params(run_cfg, model), model, images, labels, key, make, 8
  )
  assert record["trained"]["preferred"] == [int(c) for c in trained["preferred"]]
  np.testing.assert_allclose(record["trained"]["selectivity"], trained["selectivity"], atol=1e-4)
  np.testing.assert_allclose(
    record["untrained"]["selectivity"], untrained["selectivity"], atol=1e-4
  )
  assert record["trained"]["selectivity"] != record["untrained"]["selectivity"]  # they differ
  for part in ("trained", "untrained"):
    assert 0.0 <= record[part]["smoothness"] <= 1.0
    assert 0.0 <= record[part]["selective_fraction"] <= 1.0
  assert np.isfinite(record["labels_shuffled"]["mean_selectivity"])


def test_a_rerun_measures_nothing_and_adds_no_record(study, monkeypatch):
  tmp, options, *_ = study
  monkeypatch.setattr(study_lib, "measure", lambda *a, **k: pytest.fail("measured again"))
  before = (tmp / "tvae_organization.jsonl").read_text()
  study_lib.run(options)
  assert (tmp / "tvae_organization.jsonl").read_text() == before


def test_the_section_tabulates_both_models_and_draws_the_figure(study):
  tmp, *_ = study
  context = ReportContext(str(tmp), str(tmp), str(tmp / "RESULTS_TVAE.md"))
  text = "\n".join(study_lib.section(context))
  assert "| TVAE tiny | 0 |" in text and "| untrained |" in text
  assert (tmp / "tvae_organization.png").stat().st_size > 0


def test_dprime_and_the_preferred_class_match_a_direct_computation():
  rng = np.random.default_rng(0)
  labels = np.repeat(np.arange(3), [50, 30, 20])
  frames = rng.normal(size=(100, 4))
  frames[:, 0] += 2.0 * (labels == 1)  # unit 0 prefers class 1
  frames[:, 2] -= 3.0 * (labels == 0)  # unit 2 avoids class 0
  one_hot = np.eye(3)[labels]
  stats = org.statistics(one_hot.T @ frames, one_hot.T @ frames**2, one_hot.sum(0), (2, 2))
  for c in range(3):
    inside, outside = frames[labels == c], frames[labels != c]
    expected = (inside.mean(0) - outside.mean(0)) / np.sqrt((inside.var(0) + outside.var(0)) / 2)
    np.testing.assert_allclose(stats["dprime"][c], expected, rtol=1e-9)
  assert stats["preferred"][0] == 1 and stats["selectivity"][0] > 1.5
  assert stats["preferred"][2] != 0
  assert stats["reference_class"][0] == 1  # d' >= 0.85
  assert stats["reference_class"][1] == -1 or stats["dprime"][:, 1].max() >= 0.85


def test_bad_inputs_name_what_to_fix(tmp_path):
  with pytest.raises(ConfigError, match="workdir\\|row label"):
    study_lib.validate(study_config("tvae_organization", runs=("VAE",)))
  with pytest.raises(ConfigError, match="num_images"):
    study_lib.validate(study_config("tvae_organization", num_images=3))
  with pytest.raises(ConfigError, match="no such directory"):
    study_lib.run(study_config("tvae_organization", root=str(tmp_path / "nowhere")))
  options = study_config(
    "tvae_organization", root=str(tmp_path), runs=("x|VAE",), records=str(tmp_path / "r.jsonl")
  )
  with pytest.raises(ConfigError, match="none of them"):
    study_lib.run(options)
