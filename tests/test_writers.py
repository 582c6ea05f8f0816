"""The progress line's rate and ETA come from recent steps, not from the compile-heavy start."""

from learned_rules.common import writers


def test_eta_ignores_the_first_interval_once_a_later_one_exists(monkeypatch):
  clock = [100.0]
  monkeypatch.setattr(writers.time, "time", lambda: clock[0])
  progress = writers.ProgressLine(total_steps=1000, start_step=0)
  clock[0] += 30.0  # steps 1-50 include 29 s of compilation
  progress(50, {"loss": 1.0})
  assert abs(progress.rate() - 50 / 30) < 1e-9  # nothing better known yet
  clock[0] += 1.0  # steps 51-100 at the real speed: 50 steps/s
  line = progress(100, {"loss": 0.5})
  assert abs(progress.rate() - 50.0) < 1e-9
  assert "steps/s=50.00" in line and "eta=0h00m18s" in line  # 900 steps at 50/s
  # The window follows recent steps: a slowdown shows within a few intervals.
  for step in range(150, 450, 50):
    clock[0] += 5.0  # 10 steps/s
    progress(step, {})
  assert abs(progress.rate() - 10.0) < 1e-9


def test_resumed_progress_counts_from_the_resumed_step(monkeypatch):
  clock = [0.0]
  monkeypatch.setattr(writers.time, "time", lambda: clock[0])
  progress = writers.ProgressLine(total_steps=200, start_step=100)
  clock[0] += 2.0
  progress(150, {})
  assert abs(progress.rate() - 25.0) < 1e-9
  assert abs(progress.eta_seconds(150) - 2.0) < 1e-9
