"""Stage B, quality filtering: answer check, deterministic verifiers, LLM judge, funnel report.

>>> from qrdistill.quality.filter import FilterSettings, filter_paths
>>> kept = filter_paths(paths, questions, FilterSettings(verifiers=("program", "arithmetic")), "filtered.jsonl")
"""
