"""Meta-training loop for the remember task: train, log, save, evaluate against baselines."""

import os
import time

import flax.serialization
import jax
from absl import logging

from learned_rules import evaluation, setup_config, writers
from learned_rules.train import meta

EVAL_SEED_OFFSET = 10_000  # evaluation episodes never overlap the training stream's seeds


def save_params(path: str, params) -> None:
  tmp = path + ".tmp"
  with open(tmp, "wb") as f:
    f.write(flax.serialization.to_bytes(params))
  os.replace(tmp, path)


def evaluate_all(config, experiment, learned_params) -> dict:
  """Learned rule, hand-written baselines and the oracle on the same held-out episodes."""
  task = setup_config.eval_task(config)
  ev = config.eval
  seed = config.seed + EVAL_SEED_OFFSET
  common = dict(seed=seed, num_episodes=ev.num_episodes, batch_size=ev.batch_size)
  results = {
    "learned": evaluation.evaluate(
      experiment.network(config.rule.name),
      learned_params,
      task,
      num_synapses=experiment.topology.num_synapses,
      num_state_floats=experiment.num_state_floats,
      **common,
    )
  }
  for name in ev.baselines:
    network = experiment.network(name)
    params = network.init_params(jax.random.PRNGKey(0))
    floats = experiment.topology.num_synapses * network.rule.synapse_state_size + (
      experiment.topology.num_neurons * network.rule.neuron_state_size
    )
    results[name] = evaluation.evaluate(
      network,
      params,
      task,
      num_synapses=experiment.topology.num_synapses,
      num_state_floats=floats,
      **common,
    )
  results[evaluation.ORACLE] = evaluation.evaluate(None, None, task, **common)
  return {
    "task": {
      **config.task.to_dict(),
      "eval_k": task.config.k_max,
      "num_episodes": ev.num_episodes,
      "topology": config.topology.name,
      "num_neurons": experiment.topology.num_neurons,
      "num_synapses": experiment.topology.num_synapses,
      "episode_steps": task.length,
    },
    "rules": results,
  }


def format_table(report: dict) -> str:
  columns = [
    "hidden_bit_accuracy",
    "bit_accuracy",
    "perfect_recall_fraction",
    "information_bits",
    "bits_per_synapse",
  ]
  task = report["task"]
  lines = [
    f"eval: {task['mode']} K={task['eval_k']} D={task['pattern_bits']} "
    f"N={task['num_neurons']} {task['topology']} synapses={task['num_synapses']} "
    f"episodes={task['num_episodes']}",
    f"{'rule':<10}" + "".join(f"{c:>24}" for c in columns),
  ]
  for name, values in report["rules"].items():
    cells = [f"{values[c]:>24.4f}" if values[c] is not None else f"{'-':>24}" for c in columns]
    lines.append(f"{name:<10}" + "".join(cells))
  return "\n".join(lines)


def train_and_evaluate(config, workdir: str) -> dict:
  """Meta-trains the configured rule, then writes eval.json and prints the comparison table."""
  experiment = setup_config.build(config)
  network = experiment.network(config.rule.name)
  optimizer = meta.make_optimizer(config.train)
  loss_fn = meta.make_loss_fn(network, experiment.task, config)
  train_step = meta.make_train_step(loss_fn, optimizer)
  state = meta.init_train_state(network, optimizer, config.seed)

  writer = writers.MetricWriter(workdir, config)
  num_steps = config.train.num_steps
  progress = writers.ProgressLine(num_steps)
  logging.info(
    "remember: N=%d neurons, %d synapses, episode of %d steps, %d meta-parameters",
    experiment.topology.num_neurons,
    experiment.topology.num_synapses,
    experiment.task.length,
    sum(x.size for x in jax.tree.leaves(state.params)),
  )
  start = time.time()
  for step in range(1, num_steps + 1):
    state, step_metrics = train_step(state)
    if step % config.train.log_every == 0 or step == num_steps:
      values = {k: float(v) for k, v in step_metrics.items()}
      writer.scalars(step, values, prefix="train/")
      progress(step, values)
  train_seconds = time.time() - start
  save_params(os.path.join(workdir, "meta_params.msgpack"), state.params)

  report = evaluate_all(config, experiment, state.params)
  report["train_seconds"] = train_seconds
  for name, values in report["rules"].items():
    scalars = {k: v for k, v in values.items() if v is not None}
    writer.scalars(num_steps, scalars, prefix=f"eval/{name}/")
  writers.write_json(os.path.join(workdir, "eval.json"), report)
  writer.close()
  table = format_table(report)
  print(table, flush=True)
  logging.info("meta-training took %.1f s; wrote %s", train_seconds, workdir)
  return report
