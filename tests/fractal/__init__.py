"""Tests of usd_synth.fractal."""
