"""Import real teacher outputs (public dumps or your own JSONL) as Path records.

>>> from qrdistill.importing import ImportSpec, import_paths
"""
