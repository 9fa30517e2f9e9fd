"""Stage C: the router (path embedding + style + each student's state -> independent gates)
and its objective.

>>> from qrdistill.routing.router import Router
>>> from qrdistill.routing.objective import router_objective
"""
