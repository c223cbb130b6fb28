"""The optimize loop: tune the blend weight (and the synthetic share and variation strengths) from a
downstream model's score, with pluggable evaluators (built-in classifier, a command, a Python function, or
an entry point) and searches robust to noisy scores."""
