r"""Engine benchmark: forward and meta-step speed beside this machine's matmul limit, synapse
updates per second, meta-step memory against episode length, per-synapse layouts, and the
reference kernel against the row-chunked one.

  python -m experiments.study --config=configs/studies/bench.py
  python -m experiments.study --config=configs/studies/bench.py "--config.sizes=(16,)" \
    --config.repeats=1 --config.memory_size=0 --config.layout_size=0 "--config.kernel_sizes=()"

Measured in one process, interleaved per repeat, medians reported. About 10 min on this 2-core
CPU at the defaults; quiet runs only for numbers you quote.
"""

from configs.studies import common


def get_config():
  config = common.study("bench", "results/bench.jsonl")
  config.sizes = (32, 64, 128, 256)  # numbers of neurons N
  config.topologies = ("fully_connected", "layered", "sparse")  # topologies measured
  config.batch = 8  # episodes per forward and meta-step
  config.k = 4  # patterns per episode of the size sweep (T = 26 at the default timing)
  config.repeats = 5  # timed runs per measurement; medians are reported
  config.memory_size = 128  # N of the memory-vs-episode-length study; 0 skips it
  config.episode_lengths = (26, 98)  # T values of that study (T = 6 K + 2 by default)
  config.remat_every = (1, 10, 26)  # train.remat_every policies compared there
  config.matmul_size = 1024  # side of the limit's square f32 matmul
  config.tanh_elements = 2**16  # length of the limit's tanh vector (in cache; 64 passes)
  config.layout_size = 256  # N of the layout comparison (sparse and layered); 0 skips it
  config.kernel_sizes = (64, 256)  # N of the fully connected kernel comparison; () skips it
  return config
