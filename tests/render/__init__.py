"""Tests of usd_synth.render."""
