"""Tests of usd_synth.body."""
