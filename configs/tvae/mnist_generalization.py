r"""Generalization test: TVAE L=13/36 trained on single transforms, tested on rotation and hue
changing together (scale held at 1.0, as the reference's AddDualTransformationDims does).

  python -m experiments.main --config=configs/tvae/mnist_generalization.py \
    --workdir=runs/tvae_mnist_generalization

E_eq on the combined sequences should stay far below the chance level (~13.2k).
"""

from configs.tvae import mnist


def get_config():
  config = mnist.get_config()
  config.data.eval_transforms = "rotation+hue"  # both sweep together; scale fixed at 1.0
  return config
