"""Tests of usd_synth.kernels."""
