"""learned_rules: meta-learned online update rules (learning to remember) and a Topographic VAE."""

from setuptools import find_packages, setup

# Versions tested together on CPU (Python 3.11, 2026-11-22); see BUILD_NOTES.md.
INSTALL_REQUIRES = [
  "jax==0.10.2",
  "jaxlib==0.10.2",
  "flax==0.12.8",
  "optax==0.2.8",
  "chex==0.1.92",
  "ml_collections==1.1.0",
  "tensorboardX==2.6.5",
  "absl-py==2.5.1",
  "orbax-checkpoint==0.12.8",
  "evosax==0.3.2",
  "matplotlib==3.11.2",
  "numpy>=2.0,<3",
]

EXTRAS_REQUIRE = {
  "test": [
    "pytest==9.2.0",
    "pytest-xdist==3.8.0",
    "nbclient==0.11.0",
    "nbformat==5.11.1",
    "ipykernel==7.4.0",
    "ruff==0.17.6",
  ],
}

setup(
  name="learned_rules",
  version="0.1.0",
  description="Meta-learned online neuron and synapse update rules, and a Topographic VAE, in JAX.",
  # Only the library is installed; experiments/ and configs/ run from the repository root.
  packages=find_packages(include=["learned_rules", "learned_rules.*"]),
  python_requires=">=3.10",
  install_requires=INSTALL_REQUIRES,
  extras_require=EXTRAS_REQUIRE,
)
