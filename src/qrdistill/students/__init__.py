"""Students: loading (hub, local, embedded GGUF, tiny test models), LoRA, prompt formatting,
tokenisation with loss masks and character offsets, batched greedy generation.

>>> student = load_student(StudentSpec(name="smollm2-135m", model="embedded:smollm2-135m"))
>>> enc = student.encode("What is 2+3?", "2+3=5, so the answer is 5.")
"""

from qrdistill.students.encoding import IGNORE, NO_SPAN, Encoded
from qrdistill.students.spec import StudentSpec
from qrdistill.students.student import Student, load_student

__all__ = ["IGNORE", "NO_SPAN", "Encoded", "Student", "StudentSpec", "load_student"]
