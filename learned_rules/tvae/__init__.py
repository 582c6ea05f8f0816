"""Topographic VAE (Keller & Welling 2021): equivariant capsules from transforming sequences."""
