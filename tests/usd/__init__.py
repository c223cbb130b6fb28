"""Tests of usd_synth.usd."""
