"""The embedded offline harness: synthetic problem families registered as tasks (``families``:
``arith``, ``date``, ``table``, ``yesno``, with ``words`` and ``solutions``), and the synthetic
teacher that renders their structured solutions in every style (``teacher``), served as the
``synthetic`` chat backend (``backend``). All data here is synthetic.

>>> from qrdistill.synthetic.families import make_questions
>>> questions = make_questions("synth_arith1", 8, seed=0, split="train")
"""
