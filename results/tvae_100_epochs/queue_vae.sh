#!/bin/bash
# Background queue: MNIST rows at the reference's 100 epochs (config defaults: SGD 1e-4, momentum 0.9, batch 8).
cd "$(dirname "$0")/../.."
for pair in "VAE_s0:mnist_vae:0" "VAE_s1:mnist_vae:1" "VAE_s2:mnist_vae:2"; do
  IFS=: read name module seed <<< "$pair"
  if [ -f runs/tvae100/$name/eval.json ]; then continue; fi
  echo "=== $name $(date)"
  nice -n 10 python -m experiments.main --config=configs/tvae/$module.py --workdir=runs/tvae100/$name \
    --config.seed=$seed --config.num_epochs=100 --config.eval_every_epochs=5 --config.eval_size=500 --config.log_every=1000 \
    >> runs/tvae100/$name.log 2>&1 || { echo "failed $name"; }
done
echo "=== done $(date)"
