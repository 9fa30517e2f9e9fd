"""One student's forward as every training step uses it: the decoder's last hidden states (peer
teaching pools them per span) and the LM head's NLL at the supervised rows only (Eq. 9's l_js,
``losses.supervised_rows``/``token_nll``: logits for prompt and padding are never built).

It is an ``nn.Module`` so that FSDP can make it the root unit of a sharded student
(``train/sharding.py``): it holds the embeddings, the final norm and the LM head.

>>> hidden, nll, rows = StudentForward(student)(input_ids, attention_mask, labels)   # [B,T,H], [N], rows
"""

from __future__ import annotations

import torch

from qrdistill.method.losses import SupervisedRows, supervised_rows
from qrdistill.students import Student


class StudentForward(torch.nn.Module):
    """One student's forward as the trainer uses it: hidden states, and the LM head on supervised rows only.

    >>> hidden, nll, rows = StudentForward(student)(input_ids, attention_mask, labels)   # [B,T,H], [N], rows
    """

    def __init__(self, student: Student) -> None:
        super().__init__()
        self.model = student.model
        self.student = student

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, SupervisedRows]:
        """Hidden states [B,T,H] in float32 (whatever the student's dtype), the float32 NLL [N] of the
        supervised rows (chunked, ``losses.token_nll``), and the rows."""
        student = self.student
        with student.autocast():
            hidden = student.hidden_states(input_ids, attention_mask)
            rows = supervised_rows(hidden, labels)
            nll = student.token_nll(rows.hidden, rows.targets)
        return hidden.float(), nll, rows
