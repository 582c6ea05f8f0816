"""The learned rule: two small shared MLPs, one for synapses and one for neurons.

Synapse network: [w, h_pre, e_pre, h_post, e_post] -> hidden -> (increment, forward, backward).
Its first layer is linear in the inputs, so it is computed as K_pre [h_pre, e_pre] (once per
presynaptic neuron) + K_post [h_post, e_post] (once per postsynaptic neuron) + K_w w (per synapse).
Synapse update: w' = w + scale * tanh(increment), residual with a bounded step (our choice).
`bilinear=True` (our choice, off by default) adds two multiplicative terms to that first layer,
(K_g w) * (G_pre [h_pre, e_pre]) + (P_pre [h_pre, e_pre]) * (P_post [h_post, e_post]): a message
gated by the synapse's own state (w times presynaptic activity, what a weight does) and a
coincidence of pre- and postsynaptic activity (what a Hebbian write needs), which a one-layer
tanh MLP otherwise has to approximate from sums. The per-neuron projections are still computed
once per neuron; the block kernel (`synapse_grid`) does not cover this form, so the engine
vmaps `synapse_core` for it.
Neuron network: [h, F, B, e, x] -> hidden -> (gate, candidate); h' = (1 - g) h + g tanh(candidate),
a gated residual that keeps |h| <= 1 (our choice). Readout: one shared linear logit.

`synapse_grid` is the same synapse computation for a whole dense [post, pre] block at once (the
engine uses it where it can; values equal to vmapping `synapse_core`, to float rounding). Its
messages are linear in the synapse network's hidden layer z, so they are summed as
(sum_j z_ij) W + count b: per synapse only the first layer and the d_w increment outputs are
computed. The block is computed in chunks of post rows that stay in cache, and its gradient
(a custom VJP) recomputes each chunk instead of keeping z for the whole grid.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from learned_rules.common.errors import ConfigError
from learned_rules.rules import hand_init
from learned_rules.rules.base import Rule

# Synapses per chunk of synapse_grid (rows x presynaptic neurons): its hidden layer, about this
# many x hidden_size floats per episode, stays in cache. Chosen by measurement (bench).
GRID_CHUNK_SYNAPSES = 1024

ACTIVATIONS = {"tanh": jnp.tanh, "relu": jax.nn.relu, "gelu": jax.nn.gelu, "silu": jax.nn.silu}


class MLP(nn.Module):
  hidden_sizes: Sequence[int]
  output_size: int
  activation: str = "tanh"

  @nn.compact
  def __call__(self, x):
    act = ACTIVATIONS[self.activation]
    for size in self.hidden_sizes:
      x = act(nn.Dense(size)(x))
    return nn.Dense(self.output_size)(x)


class LearnedRule(Rule):
  """Meta-parameters: synapse and neuron MLPs, readout, type embeddings, synapse-init law."""

  def __init__(
    self,
    neuron_state_size: int = 8,
    synapse_state_size: int = 4,
    message_size: int = 8,
    embedding_size: int = 4,
    hidden_size: int = 32,
    activation: str = "tanh",
    synapse_update_scale: float = 0.1,
    synapse_init_std: float = 0.1,
    learn_synapse_init: bool = True,
    plastic_synapses: bool = True,
    frozen_synapse_components: tuple = (),
    use_embeddings: bool = True,
    backward_messages: bool = True,
    input_size: int = 2,
    bilinear: bool = False,
    init: str = "random",
    hand_eta: float = 1.0,
  ):
    if activation not in ACTIVATIONS:
      raise ConfigError(f"rule.activation={activation!r}: expected one of {sorted(ACTIVATIONS)}.")
    self.neuron_state_size = neuron_state_size
    self.synapse_state_size = synapse_state_size
    self.message_size = message_size
    self.embedding_size = embedding_size
    self.hidden_size = hidden_size
    self.activation = activation
    self.synapse_update_scale = synapse_update_scale
    self.synapse_init_std = synapse_init_std
    self.learn_synapse_init = learn_synapse_init
    self.plastic_synapses = plastic_synapses  # False: the "frozen synapses" ablation
    frozen = tuple(int(i) for i in frozen_synapse_components)
    if any(not 0 <= i < synapse_state_size for i in frozen):
      raise ConfigError(
        f"rule.frozen_synapse_components={frozen}: each must be a synapse-state component, "
        f"0..{synapse_state_size - 1} (rule.synapse_state_size={synapse_state_size})."
      )
    # Ablation: these components keep their initial value (their update is dropped).
    self.frozen_synapse_components = frozen
    self._keep = np.isin(np.arange(synapse_state_size), frozen)
    self.use_embeddings = use_embeddings
    self.backward_messages = backward_messages
    self.input_size = input_size  # external input channels per neuron (the task's)
    self.bilinear = bilinear  # multiplicative first-layer terms (module docstring)
    if init not in hand_init.INITS:
      raise ValueError(f"init={init!r}: expected one of {hand_init.INITS}.")
    self.init = init  # 'hebbian_features': the hand-set start of rules/hand_init.py
    self.hand_eta = hand_eta  # that start's Hebbian write gain
    self._neuron_input_size = neuron_state_size + 2 * message_size + embedding_size + input_size
    self._side_size = neuron_state_size + embedding_size  # [h, e] of one end of a synapse
    self._synapse_rest = MLP((), synapse_state_size + 2 * message_size, activation)
    self._neuron_net = MLP((hidden_size, hidden_size), 2 * neuron_state_size, activation)
    self._readout = nn.Dense(1)

  def init_params(self, rng, num_types):
    keys = jax.random.split(rng, 5)
    first_in = self.synapse_state_size + 2 * self._side_size
    first = nn.Dense(self.hidden_size).init(keys[0], jnp.zeros((first_in,)))["params"]
    params = {
      "synapse_first": first,  # kernel rows ordered [w, h_pre, e_pre, h_post, e_post]
      "synapse_rest": self._synapse_rest.init(keys[1], jnp.zeros((self.hidden_size,)))["params"],
      "neuron": self._neuron_net.init(keys[2], jnp.zeros((self._neuron_input_size,)))["params"],
      "readout": self._readout.init(keys[3], jnp.zeros((self.neuron_state_size,)))["params"],
      "type_embeddings": jax.random.normal(keys[4], (num_types, self.embedding_size)),
    }
    if self.bilinear:
      hidden, side = self.hidden_size, self._side_size
      lecun = nn.initializers.lecun_normal()
      bkeys = jax.random.split(jax.random.fold_in(rng, 1), 4)
      params["synapse_bilinear"] = {
        "w_gate": lecun(bkeys[0], (self.synapse_state_size, hidden)),  # K_g
        "pre_gate": lecun(bkeys[1], (side, hidden)),  # G_pre
        "pre": lecun(bkeys[2], (side, hidden)),  # P_pre
        "post": lecun(bkeys[3], (side, hidden)),  # P_post
      }
    if self.learn_synapse_init:
      params["synapse_init"] = {
        "mean": jnp.zeros((self.synapse_state_size,)),
        "log_std": jnp.full(
          (self.synapse_state_size,), jnp.log(self.synapse_init_std), jnp.float32
        ),
      }
    if self.init == "hebbian_features":
      params = hand_init.hebbian_features(self, params, eta=self.hand_eta)
    return params

  def type_embeddings(self, params, num_types):
    embeddings = params["type_embeddings"]
    if not self.use_embeddings:
      embeddings = jnp.zeros_like(embeddings)
    return embeddings

  def init_synapse_state(self, params, rng, shape):
    shape = tuple(shape) + (self.synapse_state_size,)
    noise = jax.random.normal(rng, shape)
    if not self.learn_synapse_init:
      return self.synapse_init_std * noise
    init = params["synapse_init"]
    return init["mean"] + jnp.exp(init["log_std"]) * noise

  def _first_kernel_blocks(self, params):
    kernel = params["synapse_first"]["kernel"]
    d_w, side = self.synapse_state_size, self._side_size
    return kernel[:d_w], kernel[d_w : d_w + side], kernel[d_w + side :]

  def synapse_pre(self, params, h_pre, e_pre):
    _, k_pre, _ = self._first_kernel_blocks(params)
    side = jnp.concatenate([h_pre, e_pre])
    if not self.bilinear:
      return side @ k_pre
    b = params["synapse_bilinear"]
    return jnp.concatenate([side @ k_pre, side @ b["pre_gate"], side @ b["pre"]])

  def synapse_post(self, params, h_post, e_post):
    _, _, k_post = self._first_kernel_blocks(params)
    side = jnp.concatenate([h_post, e_post])
    linear = side @ k_post + params["synapse_first"]["bias"]
    if not self.bilinear:
      return linear
    return jnp.concatenate([linear, side @ params["synapse_bilinear"]["post"]])

  def _first_layer(self, params, w, a_pre, a_post):
    """The synapse network's first layer from the per-neuron parts (synapse_pre, synapse_post)."""
    k_w, _, _ = self._first_kernel_blocks(params)
    if not self.bilinear:
      return w @ k_w + a_pre + a_post
    pre, pre_gate, pre_coincidence = jnp.split(a_pre, 3)
    post, post_coincidence = jnp.split(a_post, 2)
    gate = w @ params["synapse_bilinear"]["w_gate"]
    return w @ k_w + pre + post + gate * pre_gate + pre_coincidence * post_coincidence

  def _synapse_output(self, params, w, first_layer):
    hidden = ACTIVATIONS[self.activation](first_layer)
    out = self._synapse_rest.apply({"params": params["synapse_rest"]}, hidden)
    d_w, d_m = self.synapse_state_size, self.message_size
    increment, forward, backward = out[:d_w], out[d_w : d_w + d_m], out[d_w + d_m :]
    new_w = w + self.synapse_update_scale * jnp.tanh(increment) if self.plastic_synapses else w
    new_w = self._frozen(w, new_w)
    if not self.backward_messages:
      backward = jnp.zeros_like(backward)
    return new_w, forward, backward

  def _frozen(self, w, new_w):
    """new_w with the frozen components (the ablation) put back to their values in w."""
    return jnp.where(self._keep, w, new_w) if self._keep.any() else new_w

  def synapse_core(self, params, w, a_pre, a_post):
    return self._synapse_output(params, w, self._first_layer(params, w, a_pre, a_post))

  def synapse_step(self, params, w, h_pre, h_post, e_pre, e_post):
    """Unfactored reference: the whole first layer applied to the concatenated inputs."""
    inputs = jnp.concatenate([w, h_pre, e_pre, h_post, e_post])
    first = params["synapse_first"]
    layer = inputs @ first["kernel"] + first["bias"]
    if self.bilinear:
      b = params["synapse_bilinear"]
      pre, post = jnp.concatenate([h_pre, e_pre]), jnp.concatenate([h_post, e_post])
      layer += (w @ b["w_gate"]) * (pre @ b["pre_gate"]) + (pre @ b["pre"]) * (post @ b["post"])
    return self._synapse_output(params, w, layer)

  def neuron_step(self, params, h, forward, backward, e, x):
    inputs = jnp.concatenate([h, forward, backward, e, x])
    out = self._neuron_net.apply({"params": params["neuron"]}, inputs)
    gate = jax.nn.sigmoid(out[: self.neuron_state_size])
    candidate = jnp.tanh(out[self.neuron_state_size :])
    return (1.0 - gate) * h + gate * candidate

  def readout(self, params, h):
    return self._readout.apply({"params": params["readout"]}, h)[0]

  @property
  def synapse_grid(self):
    """The whole-block kernel, or None where a subclass changed the per-synapse computation."""
    cls = type(self)
    same = all(
      getattr(cls, name) is getattr(LearnedRule, name)
      for name in ("synapse_core", "_synapse_output", "_first_kernel_blocks", "_first_layer")
    )
    return self._synapse_grid if same and not self.bilinear else None

  def _synapse_grid(self, params, w, a_pre, a_post, mask=None):
    """(P, Q, d_w) states of a [post, pre] block -> (w', forward sums (P, d_m), backward (Q, d_m)).

    `mask` (P, Q) numpy 0/1 (None: all real): absent synapses keep their state, send nothing.
    """
    d_w, d_m = self.synapse_state_size, self.message_size
    k_w, _, _ = self._first_kernel_blocks(params)
    rest = params["synapse_rest"]["Dense_0"]
    kernel, bias = rest["kernel"], rest["bias"]
    k_inc, b_inc = kernel[:, :d_w], bias[:d_w]
    posts, pres = w.shape[0], w.shape[1]
    zf, zb, new_w = _grid_kernel(
      self.activation, self.synapse_update_scale if self.plastic_synapses else None, mask
    )(w, a_pre, a_post, k_w, k_inc, b_inc)
    new_w = self._frozen(w, new_w)
    count_f = np.full(posts, pres, np.float32) if mask is None else mask.sum(axis=1)
    count_b = np.full(pres, posts, np.float32) if mask is None else mask.sum(axis=0)
    forward = zf @ kernel[:, d_w : d_w + d_m] + count_f[:, None] * bias[d_w : d_w + d_m]
    backward = zb @ kernel[:, d_w + d_m :] + count_b[:, None] * bias[d_w + d_m :]
    if not self.backward_messages:
      backward = jnp.zeros_like(backward)
    return new_w, forward, backward


def _chunk_rows(posts: int, pres: int) -> int:
  """The largest divisor of `posts` whose chunk has at most GRID_CHUNK_SYNAPSES synapses."""
  limit = max(GRID_CHUNK_SYNAPSES // max(pres, 1), 1)
  return max(d for d in range(1, min(posts, limit) + 1) if posts % d == 0)


def _grid_kernel(activation: str, scale, mask):
  """The chunked synapse_grid computation with its custom VJP (static activation, scale, mask).

  f(w, a_pre, a_post, k_w, k_inc, b_inc) -> (sum_pre m z (P, H), sum_post m z (Q, H), w')
  with z = act(a_pre + a_post + w k_w) and w' = w + scale tanh(z k_inc + b_inc) where m = 1.
  `scale` None: frozen synapses (w' = w).
  """
  act = ACTIVATIONS[activation]

  def chunks(w, a_post):
    posts, pres = w.shape[:2]
    rows = _chunk_rows(posts, pres)
    count = posts // rows
    m = np.ones((posts, pres), np.float32) if mask is None else np.asarray(mask, np.float32)
    xs = (
      w.reshape((count, rows) + w.shape[1:]),
      a_post.reshape((count, rows) + a_post.shape[1:]),
      m.reshape(count, rows, pres),
    )
    return xs, count, rows

  def pre_activation(w, a_pre, a_post, k_w):
    pre = a_pre[None, :, :] + a_post[:, None, :]
    for i in range(w.shape[-1]):  # d_w is small: broadcast FMAs fuse with the tanh, a dot does not
      pre = pre + w[..., i : i + 1] * k_w[i]
    return pre

  def update(w, z, m, k_inc, b_inc):
    if scale is None:
      return w, None
    t = jnp.tanh(z @ k_inc + b_inc)
    return jnp.where(m[..., None] > 0, w + scale * t, w), t

  def forward(w, a_pre, a_post, k_w, k_inc, b_inc):
    (ws, posts, ms), count, rows = chunks(w, a_post)

    def body(zb, x):
      w_c, a_c, m_c = x
      z = act(pre_activation(w_c, a_pre, a_c, k_w))
      zm = z * m_c[..., None]
      new_w, _ = update(w_c, z, m_c, k_inc, b_inc)
      return zb + jnp.sum(zm, axis=0), (jnp.sum(zm, axis=1), new_w)

    zb0 = jnp.zeros(a_pre.shape, jnp.result_type(a_pre, a_post, w))
    zb, (zf, new_w) = jax.lax.scan(body, zb0, (ws, posts, ms))
    return zf.reshape((count * rows,) + zf.shape[2:]), zb, new_w.reshape(w.shape)

  @jax.custom_vjp
  def kernel(w, a_pre, a_post, k_w, k_inc, b_inc):
    return forward(w, a_pre, a_post, k_w, k_inc, b_inc)

  def kernel_fwd(w, a_pre, a_post, k_w, k_inc, b_inc):
    return forward(w, a_pre, a_post, k_w, k_inc, b_inc), (w, a_pre, a_post, k_w, k_inc, b_inc)

  def kernel_bwd(residuals, cotangents):
    w, a_pre, a_post, k_w, k_inc, b_inc = residuals
    g_zf, g_zb, g_w = cotangents
    (ws, posts, ms), count, rows = chunks(w, a_post)
    g_zfs = g_zf.reshape((count, rows) + g_zf.shape[1:])
    g_ws = g_w.reshape(ws.shape)

    def body(carry, x):
      d_a_pre, d_k_w, d_k_inc, d_b_inc = carry
      w_c, a_c, m_c, g_zf_c, g_w_c = x
      pre = pre_activation(w_c, a_pre, a_c, k_w)
      z, act_vjp = jax.vjp(act, pre)
      m3 = m_c[..., None]
      d_z = m3 * (g_zf_c[:, None, :] + g_zb[None, :, :])
      if scale is not None:
        t = jnp.tanh(z @ k_inc + b_inc)
        d_inc = (m3 * g_w_c) * scale * (1.0 - t * t)
        d_z = d_z + d_inc @ k_inc.T
        d_k_inc = d_k_inc + jnp.einsum("pqh,pqi->hi", z, d_inc)
        d_b_inc = d_b_inc + jnp.sum(d_inc, axis=(0, 1))
      (d_pre,) = act_vjp(d_z)
      d_w_c = g_w_c + d_pre @ k_w.T
      d_k_w = d_k_w + jnp.einsum("pqi,pqh->ih", w_c, d_pre)
      d_a_pre = d_a_pre + jnp.sum(d_pre, axis=0)
      return (d_a_pre, d_k_w, d_k_inc, d_b_inc), (d_w_c, jnp.sum(d_pre, axis=1))

    zeros = jax.tree.map(jnp.zeros_like, (a_pre, k_w, k_inc, b_inc))
    (d_a_pre, d_k_w, d_k_inc, d_b_inc), (d_w, d_a_post) = jax.lax.scan(
      body, zeros, (ws, posts, ms, g_zfs, g_ws)
    )
    return (
      d_w.reshape(w.shape),
      d_a_pre,
      d_a_post.reshape(a_post.shape),
      d_k_w,
      d_k_inc,
      d_b_inc,
    )

  kernel.defvjp(kernel_fwd, kernel_bwd)
  return kernel
