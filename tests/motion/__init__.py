"""Tests of usd_synth.motion."""
