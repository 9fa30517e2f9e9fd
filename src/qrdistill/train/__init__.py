"""Stage D and the training loop: losses, text alignment, peer teaching, methods, checkpoints.

>>> from qrdistill.train.config import TrainConfig
>>> from qrdistill.train.trainer import train
>>> result = train(TrainConfig.from_yaml("cfg.yaml"), kept_paths, questions_by_id)

Kept light (no torch import) so that ``qrdistill --help`` starts fast.
"""
