"""pixelcnn_lib: a small, tested PixelCNN library for binarized Chinese calligraphy.

Modules, lowest first (a module only imports the ones above it in this list):

- ``data``    the embedded calligraphy dataset, folders of scans, ``tf.data`` pipelines
- ``fonts``   rendering the embedded dataset from openly licensed brush fonts
- ``layers``  shifts, shifted and masked convolutions, the gated residual block
- ``model``   the seed's PixelCNN
- ``metrics`` bits/dim and friends
- ``viz``     image grids, dependency maps and plots
- ``train``   presets, training with Adam + EMA, atomic checkpoints, resuming
- ``sample``  naive and cached raster-order sampling, and their benchmark
- ``cli``     ``python -m pixelcnn_lib``
"""

import os as _os
import sys as _sys

# TensorFlow's Python-side log level: keep errors, drop the info and warning chatter.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _import_tensorflow_quietly():
    """Import TensorFlow with file descriptor 2 sent to /dev/null.

    TensorFlow 2.21 writes time-stamped lines (oneDNN, CUDA stubs, cuInit) to stderr before its logging is
    set up, so TF_CPP_MIN_LOG_LEVEL cannot silence them. Jupyter captures file-descriptor output into
    cells, where the time stamps would make every re-run differ. Python exceptions still propagate.
    """
    if "tensorflow" in _sys.modules:
        return
    try:
        saved = _os.dup(2)
    except OSError:  # no stderr at all (some embedded interpreters): nothing to silence
        import tensorflow  # noqa: F401

        return
    devnull = _os.open(_os.devnull, _os.O_WRONLY)
    _os.dup2(devnull, 2)
    try:
        import tensorflow as tf

        tf.config.list_physical_devices()  # device discovery is what prints the cuInit error
    finally:
        _os.dup2(saved, 2)
        _os.close(devnull)
        _os.close(saved)


_import_tensorflow_quietly()

__version__ = "0.1.0"
