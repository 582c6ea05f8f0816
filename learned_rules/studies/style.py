"""What every study's tables and plots share: rule labels, one colour per name, the spec's
reference capacities."""

import math
import os


def rule_label(rule: str) -> str:
  """A rule as tables name it: a hand-written name as it is, a rule directory by its basename."""
  return os.path.basename(os.path.normpath(rule)) if is_committed(rule) else rule


def is_committed(rule: str) -> bool:
  """True for a rule directory (results/rules/<name>), False for a registered rule name."""
  return os.sep in rule or os.path.isdir(rule)


def seed_group(label: str) -> str:
  """'headline_s0' -> 'headline' (the seeds of one recipe pooled); other labels unchanged."""
  stem, _, suffix = label.rpartition("_s")
  return stem if stem and suffix.isdigit() else label


def colours(names) -> dict:
  """One matplotlib colour per name, all distinct for up to 20 names (tab10, then tab20 with its
  dark shades first); the same name keeps its colour in every panel it is drawn in."""
  import matplotlib.pyplot as plt

  names = list(dict.fromkeys(names))
  if len(names) <= 10:
    palette = plt.get_cmap("tab10").colors
    return {name: palette[i] for i, name in enumerate(names)}
  palette = plt.get_cmap("tab20").colors
  order = list(range(0, 20, 2)) + list(range(1, 20, 2))
  return {name: palette[order[i % 20]] for i, name in enumerate(names)}


def reference_capacities(n: float) -> dict:
  """Section 5 of the spec: capacity K as a function of N (random unbiased ±1 patterns)."""
  return {
    "Hopfield 0.138 N (approx.)": 0.138 * n,
    "Hebbian exact N/(4 ln N)": n / (4 * math.log(n)),
    "Storkey N/sqrt(2 ln N)": n / math.sqrt(2 * math.log(n)),
    "pseudo-inverse N": n,
    "Gardner 2 N": 2 * n,
  }
