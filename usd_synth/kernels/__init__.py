"""NVIDIA Warp kernels, each with a numpy reference in the same module used by the tests.

Device choice lives in :mod:`usd_synth.kernels.device`; kernels run on CPU and on CUDA.
"""
