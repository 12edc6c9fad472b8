"""Gates: each success criterion is decided by a machine, with evidence.

One module per gate kind (`checks`, `command`, `coverage`, `files`, `monitor`, `manual`), each
with `evaluate(spec, context) -> GateResult`; `runner` evaluates a plan's criteria in parallel.
"""
