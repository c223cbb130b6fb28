"""Renderer backends shipped with usd-synth (entry-point group ``usd_synth.renderers``)."""
