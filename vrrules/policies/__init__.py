"""Policy specs, compiled in named stages (see :mod:`vrrules.policies.compiler`).

``load`` (strict YAML to a typed spec) · ``check`` (against the case schema) · ``resolve``
(parameters in force) · ``lower`` (engine-neutral rules) · ``evaluate`` (durable_rules, in
``engine.py`` alone, behind the ``Evaluator`` protocol) · ``lint`` (for authors only).
Nothing here imports from ``vrrules.events`` or ``vrrules.audit``.
"""
