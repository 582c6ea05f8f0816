"""Studies: research that runs the library from one config and reports from its records.

`STUDIES` lists them by name, in the order their sections appear in the results documents;
`load(name)` imports one (lazily: a TVAE study never imports the rule engine). See `base` for the
interface, `report` for the documents, and `experiments/study.py` for the entry point.
"""

import importlib

from learned_rules.common.registry import Registry
from learned_rules.studies.base import Interrupted, ReportContext, Study

__all__ = ["STUDIES", "Interrupted", "ReportContext", "Study", "load"]

STUDIES = Registry("study", "study")
for _name in (
  "sweep",  # rules x sizes x loads x topologies, the default comparison grid
  "recipes",  # meta-training recipes against wall time
  "estimators",  # BPTT against evolution strategies at equal wall time
  "layered_table",  # layered hetero-association, rule x K
  "teacher_curves",  # unseen-key accuracy of a random teacher against K
  "teacher_references",  # numpy textbook learners on the teacher task's own episodes
  "capacity",  # K*(N) by search, one set of parameters at every N
  "anatomy",  # a rule's storage update by pre/post activity, and where its memory lives
  "serial_position",  # recall by storage position
  "timing",  # one rule across the task's timing and difficulty axes
  "hopfield_reference",  # a textbook numpy Hopfield net beside the engine's Hebbian rules
  "diversity",  # do the hidden neurons of a layered net differ
  "update_alignment",  # a layered rule's storage updates against delta and backprop
  "headline",  # the headline rule trained from scratch, stage by stage
  "bench",  # engine throughput against the machine's matmul limit, and memory
  "bench_sharding",  # one network split over several devices
  "tvae_table",  # the Topographic VAE rows and their controls (RESULTS_TVAE.md)
  "tvae_step",  # TVAE training-step time per row
  "tvae_curves",  # TVAE metrics against epochs, trained and untrained
  "tvae_organization",  # TVAE latent units by preferred digit, trained and untrained
  "tvae_claims",  # the TVAE abstract's claims against the records, paired over seeds
):
  STUDIES.register(_name, f"learned_rules.studies.{_name}")


def load(name: str) -> Study:
  """The Study of `name` (ConfigError listing the studies if there is none)."""
  study = importlib.import_module(STUDIES.get(name)).STUDY
  assert study.name == name, (study.name, name)
  return study
