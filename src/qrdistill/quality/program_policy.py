"""What a Program path's code may use, read from its source before it runs.

An arithmetic program needs numbers, not the machine: a program whose source touches files, the
environment, the network, processes or the interpreter's own machinery fails the program verifier
even if it would print the right answer. The allow-list:

- imports: ``sandbox.STDLIB_IMPORTABLE`` (math, cmath, fractions, decimal, numbers, itertools,
  functools, operator, collections, statistics, random, re, string, datetime, calendar, heapq,
  bisect, copy, typing, dataclasses, enum) and ``sandbox.PACKAGES_IMPORTABLE`` (numpy, sympy).
  Any other standard-library module (os, sys, io, pathlib, subprocess, socket, signal, threading,
  ctypes, importlib, inspect, gc, time, ...) is forbidden; a third-party module outside the list
  cannot run here (``not_provided``: unverifiable, not forbidden).
- builtins: everything but ``open``, ``exec``, ``eval``, ``compile``, ``__import__``, ``input``,
  ``breakpoint``, ``help``, ``globals``, ``locals``, ``vars``, ``dir``, ``getattr``, ``setattr``,
  ``delattr``, ``memoryview``.
- no dunder name or attribute (``__class__``, ``__code__``, ``__builtins__``, ...) but ``__name__``,
  ``__init__``, ``__doc__`` and ``__main__``, and no other dunder inside a string (what ``sympify``
  would evaluate).
- no numpy/sympy file functions (``load``, ``save``, ``loadtxt``, ``savetxt``, ``fromfile``,
  ``tofile``, ``genfromtxt``, ``memmap``, ``DataSource``, ``preview``).

>>> forbidden_use("import math\\nprint(math.sqrt(16))") is None
True
>>> forbidden_use("import os\\nprint(os.environ)")
'imports os'
"""

from __future__ import annotations

import ast
import re
import sys

from qrdistill.quality.sandbox import PACKAGES_IMPORTABLE, STDLIB_IMPORTABLE, imported_modules

FORBIDDEN_BUILTINS = frozenset({"open", "exec", "eval", "compile", "__import__", "input", "breakpoint", "help",
                                "globals", "locals", "vars", "dir", "getattr", "setattr", "delattr", "memoryview"})
ALLOWED_DUNDERS = frozenset({"__name__", "__init__", "__doc__", "__main__"})
FILE_FUNCTIONS = frozenset({"load", "save", "savez", "savez_compressed", "loadtxt", "savetxt", "fromfile", "tofile",
                            "genfromtxt", "fromregex", "memmap", "open_memmap", "DataSource", "preview"})
_DUNDER = re.compile(r"__\w+__")


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__") and name not in ALLOWED_DUNDERS


def not_provided(code: str) -> str | None:
    """The first third-party module ``code`` imports that the sandbox does not provide, or None.

    >>> not_provided("import scipy.optimize")
    'scipy'
    """
    allowed = set(STDLIB_IMPORTABLE) | set(PACKAGES_IMPORTABLE)
    return next((m for m in imported_modules(code) if m not in allowed and m not in sys.stdlib_module_names and m != "."), None)


def forbidden_use(code: str) -> str | None:
    """What in ``code`` an arithmetic program never needs, in a few words, or None if nothing is.
    Code that does not parse is None here (running it reports the SyntaxError)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    for module in imported_modules(code):
        if module == ".":
            return "has a relative import"
        if module in sys.stdlib_module_names and module not in STDLIB_IMPORTABLE:
            return f"imports {module}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and (node.id in FORBIDDEN_BUILTINS or _is_dunder(node.id)):
            return f"uses {node.id}"
        if isinstance(node, ast.Attribute) and (_is_dunder(node.attr) or node.attr in FILE_FUNCTIONS):
            return f"uses .{node.attr}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            held = next((d for d in _DUNDER.findall(node.value) if d not in ALLOWED_DUNDERS), None)
            if held:
                return f"has a string holding {held}"
        if isinstance(node, (ast.Global, ast.Nonlocal)) and any(_is_dunder(n) for n in node.names):
            return f"uses {node.names[0]}"
    return None
