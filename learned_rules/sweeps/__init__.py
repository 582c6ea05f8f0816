"""Sweeps of rule evaluations and the report made from their records.

`grid`: the points of a sweep config and the remember config of each point. `runner`: evaluates
the points not yet recorded, meta-training a rule first (through `train.trainer.meta_train`, so a
killed sweep resumes mid-rule) where it has meta-parameters. `report`: RESULTS.md and its plots
from the records. `hopfield_reference`: a textbook numpy Hopfield net next to the engine's Hebbian
rules on the same episodes (its records get their own section of the report).
`experiments/sweep.py`, `experiments/results.py` and `experiments/hopfield_reference.py` are their
entry points; from a notebook, `runner.run(config)` and `report.generate(records_dir, output)`.
"""
