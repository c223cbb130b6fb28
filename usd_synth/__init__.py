"""usd-synth: few human motions in, large labelled randomized OpenUSD training sets out.

The flow runs one way: sources -> Motion -> blend -> actor USD -> stage USD -> renderer -> dataset files.
Each stage lives in its own subpackage; the USD stage is the contract between composing and rendering.
"""

from usd_synth.errors import UsdSynthError

__all__ = ["UsdSynthError", "__version__"]
__version__ = "0.1.0"
