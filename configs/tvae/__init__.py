"""Topographic VAE configs (config.system = 'tvae'): mnist.py is the default, the rest modify it."""
