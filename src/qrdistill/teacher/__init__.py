"""Stage A: the teacher writes diverse reasoning paths.

>>> from qrdistill.teacher.generate import GenerateSettings, generate_paths
>>> paths = generate_paths(questions, task, GenerateSettings(teacher="synthetic"), "paths.jsonl", "cache.jsonl")

Styles are data (``styles/*.yaml``, see ``styles.py``); chat backends, shared with the judge,
live in ``qrdistill.backends`` (``get_backend("openai" | "hf" | "vllm" | "synthetic", ...)``),
finished calls in ``qrdistill.callcache``.
"""
