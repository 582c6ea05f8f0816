#!/bin/bash
# Background queue: six MNIST rows, 10 epochs each, the reference optimizer (config defaults).
cd /work/main
for pair in "TVAE_L_13_36:mnist" "VAE:mnist_vae" "BubbleVAE:mnist_bubble" "TVAE_L_0:mnist_l0" "TVAE_L_5_36:mnist_l5" "TVAE_L_1_2:mnist_l18"; do
  name=${pair%%:*}; module=${pair##*:}
  if [ -f runs/tvae_long/$name/eval.json ]; then continue; fi
  echo "=== $name $(date)"
  nice -n 10 python -m experiments.main --config=configs/tvae/$module.py --workdir=runs/tvae_long/$name \
    --config.num_epochs=10 --config.eval_every_epochs=0 --config.eval_size=500 --config.log_every=500 \
    > runs/tvae_long/$name.log 2>&1 || { echo "failed $name"; }
done
echo "=== done $(date)"
