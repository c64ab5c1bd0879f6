"""Raster-order sampling from a PixelCNN: the naive way and the cached way.

Both samplers visit the pixels row by row, left to right. At each pixel they compute the logit of
``p(x_ij = 1 | everything before)``, divide it by the temperature, and set the pixel to 1 when a uniform
random number drawn in advance for that pixel falls below the probability. Drawing all uniforms up front from
one seeded NumPy generator makes the two samplers comparable: given equal logits they write equal pixels.

- :func:`sample_naive` runs the whole network on the whole image for every pixel: ``H*W`` forward passes.
  Simple and obviously correct; the reference.
- :func:`sample_cached` (Ramachandran et al., 2017, "Fast Generation for Convolutional Autoregressive
  Models") computes every layer *at the new pixel only*, reading the few earlier activations each shifted
  convolution needs from per-layer caches of two rows. The part of each 2x2 convolution that reads the
  previous row is computed once per row for the whole row; only the part that reads the current row is
  computed per pixel.

Pixels given in advance (``given``/``given_mask``) are copied instead of drawn, which is how characters are
completed from their upper half.
"""

from __future__ import annotations

import weakref

import numpy as np

from pixelcnn_lib.model import PixelCNN


def _prepare(n, height, width, temperature, seed, given, given_mask):
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    uniforms = np.random.default_rng(seed).random((n, height, width))
    if given is None:
        given = np.zeros((n, height, width), dtype=np.float32)
        given_mask = np.zeros((n, height, width), dtype=bool)
    else:
        given = np.broadcast_to(np.asarray(given, dtype=np.float32), (n, height, width))
        if given_mask is None:
            raise ValueError("given_mask is required with given")
        given_mask = np.broadcast_to(np.asarray(given_mask, dtype=bool), (n, height, width))
    return uniforms, given, given_mask


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _raster_loop(engine, n, height, width, temperature, seed, given, given_mask, return_logits, progress):
    """The loop both samplers share; ``engine`` computes the logits at (i, j) and learns each new pixel."""
    uniforms, given, given_mask = _prepare(n, height, width, temperature, seed, given, given_mask)
    x = np.zeros((n, height, width), dtype=np.float32)
    logits = np.full((n, height, width), np.nan, dtype=np.float32) if return_logits else None
    rows = range(height)
    if progress:
        from tqdm.auto import tqdm

        rows = tqdm(rows, desc=f"sampling ({engine.name})", unit="row", leave=False)
    for i in rows:
        engine.start_row(x, i)
        for j in range(width):
            if engine.may_skip and given_mask[:, i, j].all():
                x[:, i, j] = given[:, i, j]
                continue
            logit = engine.logit_at(x, i, j)
            if return_logits:
                logits[:, i, j] = logit
            drawn = (uniforms[:, i, j] < _sigmoid(logit / temperature)).astype(np.float32)
            x[:, i, j] = np.where(given_mask[:, i, j], given[:, i, j], drawn)
            engine.end_pixel(x, i, j)
    samples = x.astype(np.uint8)
    return (samples, logits) if return_logits else samples


_FORWARD = weakref.WeakKeyDictionary()


def _compiled_forward(model):
    """``model(x, training=False)`` as a ``tf.function``, traced once per model and input shape."""
    if model not in _FORWARD:
        import tensorflow as tf

        _FORWARD[model] = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    return _FORWARD[model]


class _NaiveEngine:
    name = "naive"
    may_skip = True  # nothing is cached, so fully given pixels need no forward pass

    def __init__(self, model):
        self._forward = _compiled_forward(model)

    def start_row(self, x, i):
        pass

    def logit_at(self, x, i, j):
        return self._forward(x[..., None]).numpy()[:, i, j, 0]

    def end_pixel(self, x, i, j):
        pass


def sample_naive(model, n=16, size=32, temperature=1.0, seed=0, given=None, given_mask=None,
                 return_logits=False, progress=False, height=None, width=None):
    """Sample ``n`` images by running ``model`` on the full image once per pixel.

    Args:
        model: a PixelCNN (any Keras model mapping ``(B, H, W, 1)`` in {0, 1} to per-pixel logits).
        n, size: how many images, of ``size`` x ``size`` pixels (or ``height`` x ``width``).
        temperature: logits are divided by it; below 1 sharpens, above 1 flattens. Must be > 0.
        seed: seeds the uniform numbers the pixels are drawn with; the same seed gives the same images.
        given, given_mask: ``(n, H, W)`` (or broadcastable) pixel values and a bool mask of the pixels to
            copy instead of sampling.
        return_logits: also return the ``(n, H, W)`` float32 logit used at every drawn pixel (NaN where a
            pixel was skipped because it was given in every image).

    Returns:
        ``(n, H, W)`` uint8 images in {0, 1} (ink = 1), and the logits if asked.
    """
    height, width = height or size, width or size
    return _raster_loop(_NaiveEngine(model), n, height, width, temperature, seed, given, given_mask,
                        return_logits, progress)


def _elu(z):
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))


def _conv_weights(layer):
    kernel, bias = (np.asarray(w, dtype=np.float32) for w in layer.conv.get_weights())
    return kernel, bias


class _Cached2x2:
    """One 2x2 down-right convolution, evaluated a pixel at a time from two cached rows of its input.

    Output (i, j) = A(i-1, j-1) W[0,0] + A(i-1, j) W[0,1]  +  A(i, j-1) W[1,0] + A(i, j) W[1,1]  + b,
    with A = 0 outside the image (the layer's zero padding). The first half only reads row i-1 and is
    computed for the whole row when the row starts; the second half is computed per pixel.
    """

    def __init__(self, layer, n, width):
        kernel, self.bias = _conv_weights(layer)
        if kernel.shape[:2] != (2, 2):
            raise ValueError(f"cached sampling supports 2x2 down-right convolutions, got {kernel.shape[:2]}")
        self.w_up_left, self.w_up, self.w_left, self.w_here = kernel[0, 0], kernel[0, 1], kernel[1, 0], kernel[1, 1]
        c_in = kernel.shape[2]
        # Column 0 of each row buffer is the left zero padding, so input column j lives at index j + 1.
        self.prev = np.zeros((n, width + 1, c_in), dtype=np.float32)
        self.cur = np.zeros((n, width + 1, c_in), dtype=np.float32)
        self.vertical = None

    def start_row(self):
        self.prev, self.cur = self.cur, self.prev
        self.cur[:] = 0.0
        self.vertical = self.prev[:, :-1] @ self.w_up_left + self.prev[:, 1:] @ self.w_up + self.bias

    def at(self, j, a_here):
        """Write input A(i, j) = ``a_here`` ``(n, C_in)`` into the cache and return output (i, j), ``(n, C_out)``."""
        self.cur[:, j + 1] = a_here
        return self.vertical[:, j] + self.cur[:, j] @ self.w_left + a_here @ self.w_here

    def nbytes(self):
        return self.prev.nbytes + self.cur.nbytes + (0 if self.vertical is None else self.vertical.nbytes)


class _CachedEngine:
    """Per-pixel evaluation of :class:`~pixelcnn_lib.model.PixelCNN` from row caches."""

    name = "cached"
    may_skip = False  # every pixel's activations feed later pixels, so given pixels are processed too

    def __init__(self, model: PixelCNN, n: int, height: int, width: int):
        if not isinstance(model, PixelCNN):
            raise TypeError(f"cached sampling needs a pixelcnn_lib PixelCNN, got {type(model).__name__}")
        if model.down_shifted_conv.kernel_size != (1, 3) or model.down_right_shifted_conv.kernel_size != (2, 1):
            raise ValueError("cached sampling supports the seed's first layer: (1, 3) and (2, 1) kernels")
        self.n, self.width, self.n_resnet = n, width, model.n_resnet
        k_down, self.b_down = _conv_weights(model.down_shifted_conv)
        self.k_down = k_down[0]  # (3, 2, F): row i-1 at columns j-1, j, j+1
        k_right, self.b_right = _conv_weights(model.down_right_shifted_conv)
        self.k_right_up, self.k_right_here = k_right[0, 0], k_right[1, 0]  # (2, F) each
        self.resnets = [(_Cached2x2(r.conv1, n, width), _Cached2x2(r.conv2, n, width)) for r in model.gated_resnets]
        self.dense = [tuple(np.asarray(w, dtype=np.float32) for w in d.get_weights()) for d in model.dense_layers]
        self.out_w, self.out_b = (np.asarray(w, dtype=np.float32) for w in model.out_dense.get_weights())
        # Encoded input rows (pixel as -1/+1 and a channel of ones), zero-padded by one column on each side.
        self.enc_prev = np.zeros((n, width + 2, 2), dtype=np.float32)
        self.enc_cur = np.zeros((n, width + 2, 2), dtype=np.float32)
        self.first_vertical = None

    def start_row(self, x, i):
        self.enc_prev, self.enc_cur = self.enc_cur, self.enc_prev
        self.enc_cur[:] = 0.0
        if i == 0:
            self.enc_prev[:] = 0.0  # above the image: the shifts' zero rows
            self.first_vertical = np.zeros((self.n, self.width, self.b_down.shape[0]), dtype=np.float32)
        else:
            # down_shift(down_shifted_conv): row i-1 at columns j-1..j+1, for every j of the row at once.
            p = self.enc_prev
            self.first_vertical = (p[:, :-2] @ self.k_down[0] + p[:, 1:-1] @ self.k_down[1] + p[:, 2:] @ self.k_down[2]
                                   + self.b_down)
        for conv1, conv2 in self.resnets:
            conv1.start_row()
            conv2.start_row()
        self._row = i

    def logit_at(self, x, i, j):
        h = self.first_vertical[:, j]
        if j > 0:
            # right_shift(down_right_shifted_conv): rows i-1..i at column j-1.
            h = h + self.enc_prev[:, j] @ self.k_right_up + self.enc_cur[:, j] @ self.k_right_here + self.b_right
        for b, dense in enumerate(self.dense):
            for conv1, conv2 in self.resnets[b * self.n_resnet : (b + 1) * self.n_resnet]:
                c = _elu(conv1.at(j, _elu(h)))
                gate_in = conv2.at(j, c)
                a, g = np.split(gate_in, 2, axis=-1)
                h = h + a * _sigmoid(g)
            h = h @ dense[0] + dense[1]
        return (_elu(h) @ self.out_w + self.out_b)[:, 0]

    def end_pixel(self, x, i, j):
        self.enc_cur[:, j + 1, 0] = 2.0 * x[:, i, j] - 1.0
        self.enc_cur[:, j + 1, 1] = 1.0

    def cache_nbytes(self) -> int:
        """Bytes held in caches: two rows per convolution input plus one row of precomputed partial sums."""
        total = self.enc_prev.nbytes + self.enc_cur.nbytes
        total += 0 if self.first_vertical is None else self.first_vertical.nbytes
        return total + sum(c1.nbytes() + c2.nbytes() for c1, c2 in self.resnets)


def sample_cached(model, n=16, size=32, temperature=1.0, seed=0, given=None, given_mask=None,
                  return_logits=False, progress=False, height=None, width=None):
    """Like :func:`sample_naive`, same arguments and same images for the same seed, but each step computes
    only the new pixel's activations from row caches (NumPy, float32). Needs a :class:`PixelCNN`.
    """
    height, width = height or size, width or size
    engine = _CachedEngine(model, n, height, width)
    return _raster_loop(engine, n, height, width, temperature, seed, given, given_mask, return_logits, progress)


def cache_nbytes(model, n=16, size=32) -> int:
    """Memory the cached sampler's caches take for ``n`` images of ``size`` x ``size``, in bytes."""
    engine = _CachedEngine(model, n, size, size)
    engine.start_row(None, 0)
    return engine.cache_nbytes()


SAMPLERS = {"cached": sample_cached, "naive": sample_naive}


def sample(model, n=16, size=32, method="cached", **kwargs):
    """Sample with the chosen ``method`` ("cached", the default, or "naive"); see :func:`sample_naive`."""
    if method not in SAMPLERS:
        raise ValueError(f"unknown sampling method {method!r}; choose one of {sorted(SAMPLERS)}")
    return SAMPLERS[method](model, n=n, size=size, **kwargs)


def benchmark(model, n=16, size=32, naive_steps=None, seed=0) -> dict:
    """Time naive and cached sampling of ``n`` images of ``size`` x ``size`` with ``model``, in one process.

    ``naive_steps`` limits the naive sampler to its first that many pixels (the rest are marked as given, so
    it skips them) and scales the time to the full ``size*size`` pixels; every naive step costs one full
    forward pass, so the scaling is linear. Both samplers are warmed up first (tracing, memory allocation).

    Returns a dict of seconds (``naive_s`` full-image estimate, ``cached_s``), their ratio, whether the naive
    time was measured on all pixels, and the cached sampler's cache size in bytes.
    """
    import time

    total = size * size
    steps = total if naive_steps is None else min(int(naive_steps), total)
    zeros = np.zeros((n, size, size), dtype=np.float32)
    skip = np.zeros((n, size, size), dtype=bool)
    skip.reshape(n, -1)[:, steps:] = True  # given pixels: the naive sampler skips them
    warm = np.ones((n, size, size), dtype=bool)
    warm[:, 0, 0] = False
    sample_naive(model, n=n, size=size, seed=seed, given=zeros, given_mask=warm)  # one pass: traces the graph
    t0 = time.perf_counter()
    sample_naive(model, n=n, size=size, seed=seed, given=zeros, given_mask=skip)
    naive_measured = time.perf_counter() - t0
    sample_cached(model, n=n, size=min(size, 4), seed=seed)  # warm-up
    t0 = time.perf_counter()
    sample_cached(model, n=n, size=size, seed=seed)
    cached = time.perf_counter() - t0
    naive = naive_measured * total / steps
    return {"size": size, "n": n, "naive_s": naive, "naive_steps_measured": steps, "naive_measured_s": naive_measured,
            "cached_s": cached, "speedup": naive / cached, "cache_bytes": cache_nbytes(model, n, size)}
