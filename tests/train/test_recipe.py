"""The meta-training recipe's pieces: last-step loss, the load curriculum."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from learned_rules import experiment as experiment_lib
from learned_rules.common.errors import ConfigError
from learned_rules.train import meta, sizes, trainer, validation
from tests.train.helpers import tiny_config as tiny_train_config


def test_last_step_loss_keeps_only_each_recall_items_scored_step(tiny_config):
  with tiny_config.unlocked():
    tiny_config.task.recall_steps = 3
    tiny_config.task.loss_steps = "all"  # the default is "last"
  all_steps = experiment_lib.build(tiny_config).task
  with tiny_config.unlocked():
    tiny_config.task.loss_steps = "last"
  last = experiment_lib.build(tiny_config).task
  episode = all_steps.sample(jax.random.PRNGKey(0), 2)
  full = np.asarray(all_steps.supervision(episode)["loss_mask"])
  kept = np.asarray(last.supervision(episode)["loss_mask"])
  eval_steps = np.asarray(episode.eval_mask) > 0
  # The kept steps are exactly the scored (eval) steps, with the full mask's bits there.
  np.testing.assert_array_equal(kept[eval_steps], full[eval_steps])
  assert not kept[~eval_steps].any()
  assert full[~eval_steps].any()  # the full loss does score earlier recall steps
  assert float(last.loss_count(episode)) == kept.sum() == full.sum() / 3
  logits = jax.random.normal(jax.random.PRNGKey(1), full.shape)
  expected = (
    np.sum(kept * np.asarray(jnp.logaddexp(0.0, logits) - logits * np.asarray(episode.targets)))
    / kept.sum()
  )
  np.testing.assert_allclose(float(last.loss(logits, episode)), expected, rtol=1e-5)


def test_bad_loss_steps_and_threshold_are_config_errors(tiny_config):
  with tiny_config.unlocked():
    tiny_config.task.loss_steps = "first"
  with pytest.raises(ConfigError, match="task.loss_steps"):
    experiment_lib.build(tiny_config)
  config = tiny_train_config(curriculum_threshold=1.5)
  with pytest.raises(ConfigError, match="train.curriculum_threshold"):
    validation.validate_train(config.train)


def test_curriculum_step_rises_once_the_running_accuracy_passes():
  curriculum = jnp.array([2.0, 0.0])
  # 0.8 * 0 + 0.2 * 1.0 = 0.2 < 0.5: no rise; then 0.8 * 0.2 + 0.2 = 0.36; then 0.488; 0.59 > 0.5.
  expected = [(2.0, 0.2), (2.0, 0.36), (2.0, 0.488), (3.0, 0.0)]
  for top, running in expected:
    curriculum = meta.next_curriculum(curriculum, 1.0, 0.5, load_max=3)
    np.testing.assert_allclose(np.asarray(curriculum), [top, running], rtol=1e-6)
  # At k_max it stays, whatever the accuracy.
  for _ in range(5):
    curriculum = meta.next_curriculum(curriculum, 1.0, 0.5, load_max=3)
  assert float(curriculum[0]) == 3.0


def test_sampled_loads_never_exceed_the_curriculums_top_load(tiny_config):
  with tiny_config.unlocked():
    tiny_config.task.k_min = 1
    tiny_config.task.k_max = 4
    tiny_config.train.batch_size = 64
  task = experiment_lib.build(tiny_config).task
  for top in (1, 2, 4):
    episodes, _ = meta.sample_shard(
      task, tiny_config, jax.random.PRNGKey(top), top_load=jnp.float32(top)
    )
    loads = np.asarray(episodes.num_patterns)
    assert loads.max() == top and loads.min() == 1


def _curriculum_trace(tmp_path, threshold, steps=12):
  config = tiny_train_config(num_steps=steps, curriculum_threshold=threshold, log_every=1)
  with config.unlocked():
    config.task.k_min = 1
    config.task.k_max = 3
  result = trainer.meta_train(config, str(tmp_path))
  return [h["curriculum_load"] for h in result.history]


def test_training_raises_the_load_from_k_min_to_k_max_only_when_accuracy_passes(tmp_path):
  # A threshold below chance accuracy (0.5) is passed at once: the load climbs to k_max and stays.
  easy = _curriculum_trace(tmp_path / "easy", threshold=0.05)
  assert easy == sorted(easy) and easy[-1] == 3.0 and easy[0] <= 2.0
  # One no untrained rule reaches in a few steps keeps it at k_min.
  hard = _curriculum_trace(tmp_path / "hard", threshold=0.999)
  assert set(hard) == {1.0}


# --- several sizes in one meta-step (train.extra_sizes) ------------------------------------------
def test_sized_config_scales_the_loads_with_n():
  config = tiny_train_config(extra_sizes=(4, 16))
  with config.unlocked():
    config.task.k_min, config.task.k_max = 1, 3  # at N = 8
  small, large = sizes.sized_config(config, 4), sizes.sized_config(config, 16)
  assert (small.task.pattern_bits, small.task.k_min, small.task.k_max) == (4, 1, 2)  # 1.5 -> 2
  assert (large.task.pattern_bits, large.task.k_min, large.task.k_max) == (16, 2, 6)
  assert small.train.extra_sizes == () and config.train.extra_sizes == (4, 16)


@pytest.mark.parametrize(
  "extra_sizes, other, match",
  [
    ((8,), {}, "differ from task.pattern_bits=8"),
    ((12, 12), {}, "distinct"),
    ((1.5,), {}, "integers >= 2"),
    ((), {"exact_loads": (0, 2)}, "train.exact_loads=.*integers >= 1"),
    ((), {"exact_loads": (2, 2)}, "train.exact_loads=.*distinct"),
    ((12,), {"curriculum_threshold": 0.9}, "load curriculum"),
    ((12,), {"estimator": "es"}, "estimator='bptt'"),
  ],
)
def test_bad_extra_sizes_are_config_errors(extra_sizes, other, match):
  config = tiny_train_config(extra_sizes=extra_sizes, **other)
  with pytest.raises(ConfigError, match=match):
    sizes.validate(config)


def test_the_step_gradient_is_the_mean_of_each_sizes_gradient():
  config = tiny_train_config(extra_sizes=(12,))
  with config.unlocked():
    config.train.remat = False
  make_one = lambda model, task, cfg: meta.make_grad_fn(model, task, cfg)
  main = experiment_lib.build(config)
  model = main.model(config.rule.name)
  main_fn = make_one(model, main.task, config)
  grad_fn = sizes.make_grad_fn(config, model, main.task, make_one)
  params = model.init_params(jax.random.PRNGKey(0))
  rng = jax.random.PRNGKey(7)
  (loss, metrics), grads = jax.jit(grad_fn)(params, rng)

  # The same two batches, each on its own: N = 8 (loads 1..2) and N = 12 (loads 2..3).
  key_main, key_other = jax.random.split(rng)
  other = experiment_lib.build(sizes.sized_config(config, 12))
  assert other.task.load_range == (2, 3) and other.topology.num_neurons == 12
  (loss_a, metrics_a), grads_a = main_fn(params, key_main)
  (loss_b, metrics_b), grads_b = make_one(other.model(config.rule.name), other.task, other.config)(
    params, key_other
  )
  np.testing.assert_allclose(float(loss), (float(loss_a) + float(loss_b)) / 2, rtol=1e-5)
  leaves = [jax.tree.leaves(g) for g in (grads, grads_a, grads_b)]
  for got, a, b in zip(*leaves, strict=True):
    np.testing.assert_allclose(np.asarray(got), (np.asarray(a) + np.asarray(b)) / 2, atol=1e-6)
  assert float(metrics["hidden_bit_accuracy"]) == pytest.approx(
    float(metrics_a["hidden_bit_accuracy"])
  )
  assert float(metrics["hidden_bit_accuracy_n12"]) == pytest.approx(
    float(metrics_b["hidden_bit_accuracy"])
  )
  assert float(jnp.abs(jax.tree.leaves(grads_b)[0]).sum()) > 0  # the extra size does contribute


def test_a_multi_size_run_trains_and_logs_every_size(tmp_path):
  config = tiny_train_config(num_steps=3, extra_sizes=(12,))
  result = trainer.meta_train(config, str(tmp_path))
  assert result.steps_done == 3
  assert all(0.0 <= h["hidden_bit_accuracy_n12"] <= 1.0 for h in result.history)


def test_exact_loads_make_one_variant_per_size_and_load_on_its_own_layout():
  config = tiny_train_config(extra_sizes=(16,), exact_loads=(1, 2))
  got = {
    label: (c.task.pattern_bits, c.task.k_min, c.task.k_max) for label, c in sizes.variants(config)
  }
  assert got == {"k1": (8, 1, 1), "k2": (8, 2, 2), "n16_k1": (16, 2, 2), "n16_k2": (16, 4, 4)}
  (plain,) = sizes.variants(tiny_train_config())  # a plain run: itself, unchanged
  assert plain[0] == "" and plain[1].task.k_max == 2


def test_exact_loads_step_is_the_mean_over_the_loads_layouts():
  config = tiny_train_config(exact_loads=(1, 2))
  with config.unlocked():
    config.train.remat = False
  make_one = lambda model, task, cfg: meta.make_grad_fn(model, task, cfg)
  main = experiment_lib.build(config)
  model = main.model(config.rule.name)
  grad_fn = sizes.make_grad_fn(config, model, main.task, make_one)
  params = model.init_params(jax.random.PRNGKey(0))
  rng = jax.random.PRNGKey(5)
  (loss, metrics), grads = grad_fn(params, rng)
  parts = []
  for load, key in zip((1, 2), jax.random.split(rng), strict=True):
    exp = experiment_lib.build(sizes.sized_config(config, 8, load))
    assert exp.task.load_range == (load, load)  # K patterns in K slots: no blank slot
    parts.append(make_one(exp.model(config.rule.name), exp.task, exp.config)(params, key))
  np.testing.assert_allclose(float(loss), np.mean([float(p[0][0]) for p in parts]), rtol=1e-5)
  leaves = [jax.tree.leaves(g) for g in (grads, parts[0][1], parts[1][1])]
  for got, a, b in zip(*leaves, strict=True):
    np.testing.assert_allclose(np.asarray(got), (np.asarray(a) + np.asarray(b)) / 2, atol=1e-6)
  for load, part in zip((1, 2), parts, strict=True):
    assert float(metrics[f"hidden_bit_accuracy_k{load}"]) == pytest.approx(
      float(part[0][1]["hidden_bit_accuracy"])
    )
