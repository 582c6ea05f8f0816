r"""Default: meta-learn a rule that stores and recalls random patterns in a small recurrent net.

  python -m experiments.main --config=configs/remember.py --workdir=/tmp/remember

32 visible neurons, fully connected (992 synapses), K in [4, 8] patterns per episode (on 8 slots,
blank slots first), half the bits hidden in each cue, the loss on the last step of each recall
(task.loss_steps='last'), 3000 meta-steps of 16 episodes at a peak learning rate of 4e-3. On the
2-core development CPU, three seeds of this command reached 0.9977 / 0.9948 / 0.9952 hidden-bit
accuracy at K = 8 on the same 512 held-out episodes, above the strongest hand-written rule,
cue-weighted Storkey (0.9827 on those episodes); the whole command took 5.6-6.2 minutes alone
and 11.1 minutes beside two other jobs (README.md, "What the default run does and reaches", has
the table). The evaluation reports Hebbian, Storkey and delta, plain and cue-weighted, and the
oracle on the same episodes.
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.system = "remember"  # which trainer experiments.main runs
  config.seed = 0  # seeds meta-parameter init, episodes and synapse-state samples
  config.mode = "train"  # 'train' (resumes from the workdir) or 'eval' (latest checkpoint only)

  config.task = task = ml_collections.ConfigDict()
  task.name = "remember"  # the task (learned_rules/tasks: TASKS)
  task.mode = "auto"  # 'auto', 'hetero' or 'sequence' association
  task.pattern_bits = 32  # D: bits per pattern (auto: also the number of visible neurons)
  task.k_min = 4  # fewest patterns per training episode
  task.k_max = 8  # most patterns per training episode (K drawn uniformly per episode)
  task.blank_slots = "first"  # K < k_max: blank store slots 'first' (quiet start) or 'last'
  task.store_steps = 2  # P: steps each pattern is clamped during storage
  task.repetitions = 1  # R: passes over the pattern list during storage
  task.gap_steps = 1  # G: blank steps after each stored pattern
  task.delay_steps = 2  # Q: blank steps between storage and recall
  task.recall_steps = 3  # P_r: steps each cue is shown during recall
  task.hidden_fraction = 0.5  # c: fraction of a cue's bits hidden (set to 0)
  task.cue_noise = 0.0  # cue bits flipped w.p. drawn per episode in [0, cue_noise] (auto, hetero)
  task.sequence_length = 2  # L: frames per snippet in 'sequence' mode
  task.teaching = False  # True: target on the output neurons while storing (channel 2; layered)
  task.loss_steps = "last"  # recall steps the loss scores: 'all' or 'last' (of each recall item)
  task.reset_neurons_at_recall = False  # True: neuron states cleared before recall (all rules)
  task.balanced_answers = False  # True: taught hetero answers half +1 per bit (training only)

  config.topology = topology = ml_collections.ConfigDict()
  topology.name = "fully_connected"  # 'fully_connected', 'layered' or 'sparse' (TOPOLOGIES)
  topology.num_hidden = 0  # extra hidden neurons (fully_connected, sparse)
  topology.self_connections = False  # fully_connected: synapse from a neuron to itself
  topology.hidden_sizes = (32,)  # layered: sizes of the hidden layers
  topology.fan_in = 8  # sparse: presynaptic neurons per neuron
  topology.seed = 0  # sparse: seed of the fixed random wiring
  topology.layout = "auto"  # synapse storage: 'dense' [post, pre] grid, 'per_synapse', or 'auto'

  config.rule = rule = ml_collections.ConfigDict()
  rule.name = "learned"  # the rule trained here (learned_rules/rules: RULES; 'lstm' too)
  rule.neuron_state_size = 8  # d_h
  rule.synapse_state_size = 4  # d_w
  rule.message_size = 8  # d_m: forward and backward message size
  rule.embedding_size = 4  # d_e: neuron-type embedding size
  rule.hidden_size = 32  # width of the synapse and neuron MLPs
  rule.activation = "tanh"  # MLP nonlinearity: tanh, relu, gelu, silu
  rule.synapse_update_scale = 0.1  # bound on one step's change of a synapse state component
  rule.synapse_init_std = 0.1  # std of the synapse-state sample at episode start
  rule.learn_synapse_init = True  # meta-learn mean and std of that sample
  rule.plastic_synapses = True  # False: "frozen synapses" ablation (memory only in neurons)
  # Ablation of single synapse-state components: these keep their initial value, e.g. (3,).
  rule.frozen_synapse_components = ()
  rule.use_embeddings = True  # False: neuron types are indistinguishable
  rule.backward_messages = True  # False: forward messages only
  rule.bilinear = False  # True: w x pre and pre x post terms in the synapse MLP's first layer
  rule.init = "random"  # 'hebbian_features': a hand-set start (rules/hand_init.py), bilinear only
  rule.hand_eta = 1.0  # init='hebbian_features': its Hebbian write gain
  rule.free_weight = 0.25  # *_cued rules: scale of unclamped neurons' forward messages
  rule.delta_learning_rate = 1.0  # delta, delta_cued: step size (1 = normalized write)
  rule.backprop_learning_rate = 0.04  # backprop: SGD step size (one step per stored item)
  rule.backprop_nonlinearity = "tanh"  # backprop, delta_features: hidden phi: tanh, relu, linear
  rule.backprop_init_gain = 1.0  # backprop, delta_features: weights start N(0, gain^2 / fan-in)
  rule.delta_features_learning_rate = 1.0  # delta_features: step (1 = normalized write, y = t)
  rule.lstm_hidden_size = 64  # lstm: hidden units (the carry holds twice as many floats)
  config.aggregation = "mean"  # how messages are pooled per neuron: 'mean' or 'sum'

  config.train = train = ml_collections.ConfigDict()
  train.num_steps = 3000  # meta-training steps (0: evaluate the initial meta-parameters)
  train.batch_size = 16  # episodes per meta-step
  train.learning_rate = 4e-3  # peak Adam learning rate (2e-3 before: RESULTS.md, recipes)
  train.warmup_steps = 50  # linear warm-up steps
  train.schedule = "cosine"  # after warm-up: 'cosine' decay to 10% or 'constant'
  train.grad_clip_norm = 1.0  # global-norm gradient clipping
  train.remat = True  # rematerialize the scan body in the backward pass (memory for compute)
  train.remat_every = 1  # with remat: keep the state every k online steps (1: every step)
  train.log_every = 50  # steps between console/TensorBoard/metrics.jsonl lines
  train.checkpoint_every = 100  # steps between checkpoints (one is also saved at the end)
  train.checkpoints_to_keep = 3  # the most recent checkpoints kept in <workdir>/checkpoints
  train.unroll_window = 0  # truncated BPTT window in online steps; 0 = full-episode BPTT
  train.num_devices = -1  # local devices the batch is split over (pmap); -1 = all
  train.model_parallel = 1  # devices one network's synapse rows are split over; >1: num_devices=1
  train.on_nonfinite = "stop"  # NaN/Inf loss, gradient or params: 'stop' the run or 'skip' it
  train.extra_sizes = ()  # also train at these N (loads scaled by N'/N) each step (train/sizes.py)
  train.exact_loads = ()  # train on these K, each on its own K-slot layout (no blank slots)
  train.curriculum_threshold = 0.0  # >0: top load starts at k_min, +1 when accuracy passes it
  train.max_seconds = 0.0  # stop (checkpointed, then evaluated) after this much training; 0 = none
  train.init_params_file = ""  # warm start from a meta_params.msgpack (fresh optimizer)
  train.estimator = "bptt"  # outer loop: 'bptt' (back-propagation) or 'es' (evosax OpenAI-ES)
  train.es = es = ml_collections.ConfigDict()  # estimator='es' only; a generation is one step
  es.population_size = 32  # perturbed meta-parameter sets per generation (even: antithetic pairs)
  es.sigma = 0.02  # std of the Gaussian perturbation of every meta-parameter
  es.learning_rate = 0.03  # Adam step size on the search distribution's mean

  config.eval = evaluation = ml_collections.ConfigDict()
  evaluation.num_episodes = 512  # held-out episodes per rule
  evaluation.batch_size = 128  # episodes per evaluation batch
  evaluation.k = -1  # patterns per evaluation episode; -1 means task.k_max
  evaluation.slots = -1  # slots per episode (>= K; blanks per task.blank_slots); -1: K slots
  evaluation.baselines = (  # hand-written rules on the same episodes (the oracle is always run)
    "hebbian",
    "hebbian_cued",
    "storkey",
    "storkey_cued",
    "delta",
    "delta_cued",
  )
  evaluation.output = ""  # report file name in the workdir; '' means eval.json
  evaluation.probe = False  # also the memory-location probe (learned_rules/probes.py) per rule
  evaluation.params_file = ""  # mode=eval: meta-parameters from this .msgpack, not a checkpoint

  config.distributed = distributed = ml_collections.ConfigDict()
  distributed.enabled = False  # multi-host: call jax.distributed.initialize() first
  distributed.coordinator_address = ""  # 'host:port' of process 0; '' = auto (TPU pod, SLURM)
  distributed.num_processes = -1  # number of processes; -1 = auto-detect
  distributed.process_id = -1  # this process's index; -1 = auto-detect
  return config
