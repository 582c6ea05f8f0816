"""Meta-learned online update rules for neurons and synapses, and a Topographic VAE."""
