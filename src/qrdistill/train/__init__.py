"""The training loop around ``method.step.cooperative_step``: set-up, checkpoints and resume,
sharding, logs, outputs and the ``qrdistill train`` command.

>>> from qrdistill.train.config import TrainConfig
>>> from qrdistill.train.trainer import train
>>> result = train(TrainConfig.from_yaml("cfg.yaml"), kept_paths, questions_by_id)

Kept light (no torch import) so that ``qrdistill --help`` starts fast.
"""
