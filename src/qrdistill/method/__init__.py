"""QR-Distill's maths in one place (Stages C and D; docs/method.md), read from ``step.py`` down.

    step.py       cooperative_step: Eq. 9 on one micro-batch, and the bare-cue NLL refresh
    example.py    a kept path encoded by every student, its spans and answer tokens; the bare cue
    forward.py    one student's forward: hidden states and the LM head on supervised rows
    losses.py     per-token NLL (chunked), L_distill
    reward.py     the answer gain u_js (pointwise V-information)
    router.py     the router MLP; gates.py: hard gates, random and pattern gates
    state.py      each student's running loss and gain statistics (the router's f_js)
    objective.py  L_route and L_rate
    embed.py      frozen path embeddings for the router
    alignment.py  text-aligned spans; peer.py: projections, competence, L_mutual
    methods.py    the methods table, their paths and the step budget

Kept light (no torch import here) so that ``qrdistill --help`` starts fast.

>>> from qrdistill.method.step import cooperative_step
"""
