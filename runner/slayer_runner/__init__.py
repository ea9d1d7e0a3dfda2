"""SLayer runner: the part of SLayer Studio that touches weights.

Run as ``python -m slayer_runner <command> ...`` with ``runner/`` on ``PYTHONPATH``
(see docs/runner.md). The core needs only PyTorch; ``safetensors``, ``transformers``,
``tokenizers`` and ``datasets`` are used when importable.
"""

__version__ = "0.1.0"
