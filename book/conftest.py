"""pytest settings for checking the notebooks with nbval: ``pytest --nbval book/``.

The notebooks are stored with their outputs and nbval re-runs each one, comparing what it prints
with what is stored. For that comparison to be fair, the kernel must run the same Python and see
the same environment as when the outputs were made (`make notebooks`). `make test` arranges both;
this file makes a plain ``pytest --nbval book/`` do the same:

- the kernel is the Python running pytest (nbval's ``--nbval-current-env``), not whatever
  ``python3`` kernelspec Jupyter finds first, unless ``--nbval-kernel-name`` is given;
- the environment variables that the Makefile exports are set, unless already set; except
  MPLBACKEND, which is always the inline backend, since with any other (Agg, say) ``plt.show()``
  in a kernel displays nothing and every figure would be missing from the outputs.
"""

import os

# Keep in step with the exports at the top of the Makefile (tests/test_packaging.py checks it).
NOTEBOOK_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONHASHSEED": "0",
    "TF_DETERMINISTIC_OPS": "1",
    "CUDA_VISIBLE_DEVICES": "-1",
}
KERNEL_MPLBACKEND = "module://matplotlib_inline.backend_inline"


def pytest_configure(config):
    option = config.option
    if not (getattr(option, "nbval", False) or getattr(option, "nbval_lax", False)):
        return
    # Kernels are started later, at collection, and inherit this process's environment.
    for name, value in NOTEBOOK_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    os.environ["MPLBACKEND"] = KERNEL_MPLBACKEND
    if not getattr(option, "nbval_kernel_name", None):
        option.nbval_current_env = True
