"""Import real teacher outputs (public dumps or your own JSONL) as Path records.

>>> from qrdistill.importing.runner import import_sources, load_gold, load_import_config
>>> cfg = load_import_config("configs/real/svamp.import.yaml")
>>> paths, reports = import_sources(cfg, load_gold(cfg)[0])
"""
