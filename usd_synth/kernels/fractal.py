"""The chaos game for animated iterated function systems, as a Warp kernel and a numpy reference.

One launch renders every frame of a clip: thread ``(f, p)`` runs point ``p`` of frame ``f`` through
``iterations`` random map applications and splats each visited position into that frame's histogram,
through one or more per-frame homographies ("views", so a camera move, a perspective warp or a cloned
second instance costs a splat, not a resampling pass).

Randomness is counter-based: draw ``k`` of thread ``t`` is ``hash(hash(seed ^ hash(t)) + k)`` with the PCG
output hash, computed the same way in Warp and in numpy. The map sequence therefore matches exactly
between the two implementations; positions agree to float rounding (the maps are contractions, so
rounding differences shrink rather than grow) and the histograms agree within a tolerance, which is what
``tests/test_fractal_kernel.py`` checks.

Non-linear variations (applied after the affine step, as in fractal flames) are numbered by
:data:`VARIATIONS`; id 0 is the plain affine IFS.

Layout: each piece of the chaos game (the RNG, the fast sine, the variations, the game and its splatting)
has its numpy reference first and its Warp twin right after it. The Warp helpers (``wp.func``) are built
on first use by cached builders, the kernel by the :func:`~usd_synth.kernels.device.kernel_family`
pattern shared by all usd-synth kernels, so importing this module does not start Warp.
"""

import functools

import numpy as np

from usd_synth.kernels.device import KERNEL_OPTIONS, kernel_family, warp

#: Variation names by kernel id. The formulas follow the fractal-flame catalogue (Draves & Reckase).
VARIATIONS: tuple[str, ...] = (
    "none",
    "sinusoidal",
    "swirl",
    "horseshoe",
    "bent",
    "fisheye",
    "popcorn",
    "cosine",
    "eyefish",
    "cylinder",
)

#: Map choice uses a per-frame lookup table of ``2**CHOICE_BITS`` entries indexed by the top bits of a hash:
#: one load instead of a branchy search over cumulative probabilities (which made the CPU kernel 4x
#: slower), and exactly reproducible in numpy. Probabilities are resolved to 1/4096.
CHOICE_BITS = 12
CHOICE_MASK = (1 << CHOICE_BITS) - 1

#: Points each CPU thread runs side by side (see :func:`chaos_game_kernels`).
CPU_LANES = 4

#: A point leaving this box (or becoming NaN) is put back at the origin, so a non-contractive variation
#: cannot poison the histogram with infinities; the degeneracy filter rejects systems where that matters.
ESCAPE_RADIUS = 1.0e4

#: Popcorn's ``sin(tan(3 y))`` is evaluated with ``tan`` clipped to this size: the sine of a huge
#: argument is noise anyway, and its argument reduction made the kernel ten times slower.
POPCORN_TAN_LIMIT = 64.0

_U32 = np.uint32
_PCG_MUL = 747796405
_PCG_INC = 2891336453
_PCG_INC_SIGNED = _PCG_INC - 2**32  # the same bits as an int32 literal, so the C++ code compiles cleanly
_PCG_OUT = 277803737
_INV_2_24 = np.float32(1.0 / 16777216.0)


# ---------------------------------------------------------------------------------------------------------
# the counter-based RNG and the map choice
# ---------------------------------------------------------------------------------------------------------


def pcg_hash_np(x: np.ndarray) -> np.ndarray:
    """PCG-RXS-M-XS 32-bit output hash, vectorised; uint32 arithmetic wraps like the Warp version."""
    with np.errstate(over="ignore"):
        state = np.asarray(x, dtype=_U32) * _U32(_PCG_MUL) + _U32(_PCG_INC)
        word = ((state >> ((state >> _U32(28)) + _U32(4))) ^ state) * _U32(_PCG_OUT)
    return (word >> _U32(22)) ^ word


def thread_keys_np(seed: int, thread_ids: np.ndarray) -> np.ndarray:
    """Per-thread stream keys: ``hash(seed ^ hash(thread))``."""
    return pcg_hash_np(_U32(seed & 0xFFFFFFFF) ^ pcg_hash_np(thread_ids.astype(_U32)))


def uniform_np(keys: np.ndarray, counter: int) -> np.ndarray:
    """Draw number ``counter`` of each stream as a float32 in [0, 1) with 24 random bits."""
    with np.errstate(over="ignore"):
        h = pcg_hash_np(keys + _U32(counter & 0xFFFFFFFF))
    return (h >> _U32(8)).astype(np.float32) * _INV_2_24


def choice_table(probs: np.ndarray) -> np.ndarray:
    """Per-frame map-choice tables ``(F, 2**CHOICE_BITS)`` int32 from map probabilities ``(F, M)``.

    Entry ``b`` holds the map whose cumulative-probability interval contains the bin centre
    ``(b + 0.5) / 2**CHOICE_BITS``; probabilities need not be normalised.
    """
    probs = np.asarray(probs, dtype=np.float64)
    n_bins = 1 << CHOICE_BITS
    total = probs.sum(axis=1, keepdims=True)
    cum = np.cumsum(probs / np.where(total > 0, total, 1.0), axis=1)
    centres = (np.arange(n_bins) + 0.5) / n_bins
    table = np.stack([np.searchsorted(c, centres, side="right") for c in cum])
    return np.minimum(table, probs.shape[1] - 1).astype(np.int32)


def choose_np(keys: np.ndarray, step: int, table_rows: np.ndarray) -> np.ndarray:
    """Map index of chaos-game step ``step`` per stream, from each stream's own choice-table row.

    One hash serves two steps: draw ``2 + step // 2`` gives its top :data:`CHOICE_BITS` bits to the even
    step and the next ones to the odd step (the hash was a sixth of the CPU kernel's instructions).
    """
    with np.errstate(over="ignore"):
        h = pcg_hash_np(keys + _U32((2 + step // 2) & 0xFFFFFFFF))
    shift = _U32(32 - CHOICE_BITS * (1 + step % 2))
    bits = (h >> shift) & _U32((1 << CHOICE_BITS) - 1)
    return table_rows[np.arange(len(keys)), bits.astype(np.int64)]


@functools.cache
def _rng_funcs() -> dict:
    """Warp twins of :func:`pcg_hash_np` and :func:`uniform_np` (built on first use)."""
    wp = warp()

    @wp.func
    def pcg_hash(x: wp.uint32) -> wp.uint32:
        state = x * wp.uint32(_PCG_MUL) + wp.uint32(_PCG_INC_SIGNED)
        word = ((state >> ((state >> wp.uint32(28)) + wp.uint32(4))) ^ state) * wp.uint32(_PCG_OUT)
        return (word >> wp.uint32(22)) ^ word

    @wp.func
    def uniform(key: wp.uint32, counter: int) -> float:
        h = pcg_hash(key + wp.uint32(counter))
        return float(h >> wp.uint32(8)) * 5.9604644775390625e-08

    return {"pcg_hash": pcg_hash, "uniform": uniform}


# ---------------------------------------------------------------------------------------------------------
# fast trigonometry
# ---------------------------------------------------------------------------------------------------------


_SIN_C1 = 1.0
_SIN_C3 = -1.0 / 6.0
_SIN_C5 = 1.0 / 120.0
_SIN_C7 = -1.0 / 5040.0
_SIN_C9 = 1.0 / 362880.0
_SIN_C11 = -1.0 / 39916800.0
_TWO_PI = 6.283185307179586
_INV_TWO_PI = 1.0 / _TWO_PI
_HALF_PI = 1.5707963267948966


def fast_sin_np(x: np.ndarray) -> np.ndarray:
    """Polynomial sine (range reduction to [-pi, pi], odd Taylor series to x^11, error < 5e-5).

    libm's sinf/tanf made the transcendental variations 5-10x slower on CPU; the kernel evaluates the
    same float32 polynomial, so the two implementations still agree.
    """
    x = np.asarray(x, np.float32)
    f32 = np.float32
    k = np.floor(x * f32(_INV_TWO_PI) + f32(0.5))
    r = x - k * f32(_TWO_PI)
    r2 = r * r
    r4 = r2 * r2
    # Estrin's scheme, in the kernel's order: three independent pairs, then two levels. Its dependency
    # chain is half as long as Horner's, and that chain is what the CPU kernel waits on.
    low = f32(_SIN_C1) + f32(_SIN_C3) * r2
    mid = f32(_SIN_C5) + f32(_SIN_C7) * r2
    high = f32(_SIN_C9) + f32(_SIN_C11) * r2
    return (r * ((low + r4 * mid) + (r4 * r4) * high)).astype(np.float32)


def fast_cos_np(x: np.ndarray) -> np.ndarray:
    """``cos(x) = sin(x + pi/2)`` with :func:`fast_sin_np`."""
    return fast_sin_np(np.asarray(x, np.float32) + np.float32(_HALF_PI))


def _fast_tan_np(x: np.ndarray) -> np.ndarray:
    c = fast_cos_np(x)
    c = np.where(np.abs(c) < np.float32(1e-6), np.float32(1e-6), c).astype(np.float32)
    return fast_sin_np(x) / c


@functools.cache
def _trig_funcs() -> dict:
    """Warp twins of :func:`fast_sin_np`, :func:`fast_cos_np` and ``_fast_tan_np`` (built on first use)."""
    wp = warp()

    @wp.func
    def fast_sin(x: float) -> float:
        k = wp.floor(x * _INV_TWO_PI + 0.5)
        r = x - k * _TWO_PI
        r2 = r * r
        r4 = r2 * r2
        low = _SIN_C1 + _SIN_C3 * r2  # Estrin's scheme, as in fast_sin_np
        mid = _SIN_C5 + _SIN_C7 * r2
        high = _SIN_C9 + _SIN_C11 * r2
        return r * ((low + r4 * mid) + (r4 * r4) * high)

    @wp.func
    def fast_cos(x: float) -> float:
        return fast_sin(x + _HALF_PI)

    @wp.func
    def fast_tan(x: float) -> float:
        c = fast_cos(x)
        return fast_sin(x) / wp.where(wp.abs(c) < 1.0e-6, 1.0e-6, c)

    return {"fast_sin": fast_sin, "fast_cos": fast_cos, "fast_tan": fast_tan}


# ---------------------------------------------------------------------------------------------------------
# variations
# ---------------------------------------------------------------------------------------------------------


def apply_variation_np(variation: int, x: np.ndarray, y: np.ndarray, e: np.ndarray, f: np.ndarray):
    """Apply variation ``variation`` to float32 arrays (``e``, ``f``: the map's translation, for popcorn)."""
    one = np.float32(1.0)
    if variation == 0:
        return x, y
    if variation == 1:  # sinusoidal
        return fast_sin_np(x), fast_sin_np(y)
    r2 = x * x + y * y
    if variation == 2:  # swirl
        s, c = fast_sin_np(r2), fast_cos_np(r2)
        return x * s - y * c, x * c + y * s
    r = np.sqrt(r2)
    if variation == 3:  # horseshoe
        inv = one / np.maximum(r, np.float32(1e-6))
        return inv * (x - y) * (x + y), inv * np.float32(2.0) * x * y
    if variation == 4:  # bent
        nx = np.where(x < 0, np.float32(2.0) * x, x)
        ny = np.where(y < 0, np.float32(0.5) * y, y)
        return nx.astype(np.float32), ny.astype(np.float32)
    if variation == 5:  # fisheye (swaps the axes)
        k = np.float32(2.0) / (r + one)
        return k * y, k * x
    if variation == 6:  # popcorn
        lim = np.float32(POPCORN_TAN_LIMIT)
        tx = np.clip(_fast_tan_np(np.float32(3.0) * x), -lim, lim)
        ty = np.clip(_fast_tan_np(np.float32(3.0) * y), -lim, lim)
        return x + e * fast_sin_np(ty), y + f * fast_sin_np(tx)
    if variation == 7:  # cosine
        px = np.float32(np.pi) * x
        ey = np.exp(y)
        iy = np.float32(1.0) / ey
        return fast_cos_np(px) * np.float32(0.5) * (ey + iy), -fast_sin_np(px) * np.float32(0.5) * (ey - iy)
    if variation == 8:  # eyefish
        k = np.float32(2.0) / (r + one)
        return k * x, k * y
    if variation == 9:  # cylinder
        return fast_sin_np(x), y
    raise ValueError(f"unknown variation id {variation}")


@functools.cache
def _variation_funcs() -> list:
    """Warp twins of :func:`apply_variation_np`, one function per variation (index = variation id); a
    kernel picks its variation with ``wp.static``, so the chosen formula is compiled in and the others
    are not."""
    wp = warp()
    trig = _trig_funcs()
    fast_sin, fast_cos, fast_tan = trig["fast_sin"], trig["fast_cos"], trig["fast_tan"]

    # The variations, in VARIATIONS order; (e, f) is the map's translation (popcorn uses it).
    @wp.func
    def v_none(x: float, y: float, e: float, f: float) -> wp.vec2:
        return wp.vec2(x, y)

    @wp.func
    def v_sinusoidal(x: float, y: float, e: float, f: float) -> wp.vec2:
        return wp.vec2(fast_sin(x), fast_sin(y))

    @wp.func
    def v_swirl(x: float, y: float, e: float, f: float) -> wp.vec2:
        r2 = x * x + y * y
        s = fast_sin(r2)
        c = fast_cos(r2)
        return wp.vec2(x * s - y * c, x * c + y * s)

    @wp.func
    def v_horseshoe(x: float, y: float, e: float, f: float) -> wp.vec2:
        inv = 1.0 / wp.max(wp.sqrt(x * x + y * y), 1.0e-6)
        return wp.vec2(inv * (x - y) * (x + y), inv * 2.0 * x * y)

    @wp.func
    def v_bent(x: float, y: float, e: float, f: float) -> wp.vec2:
        # Selects, not ifs: the signs are random, so a branch would be mispredicted half the time.
        return wp.vec2(wp.where(x < 0.0, 2.0 * x, x), wp.where(y < 0.0, 0.5 * y, y))

    @wp.func
    def eye_scale(x: float, y: float) -> float:
        return 2.0 / (wp.sqrt(x * x + y * y) + 1.0)

    @wp.func
    def v_fisheye(x: float, y: float, e: float, f: float) -> wp.vec2:
        k = eye_scale(x, y)
        return wp.vec2(k * y, k * x)

    @wp.func
    def v_popcorn(x: float, y: float, e: float, f: float) -> wp.vec2:
        tx = wp.clamp(fast_tan(3.0 * x), -POPCORN_TAN_LIMIT, POPCORN_TAN_LIMIT)
        ty = wp.clamp(fast_tan(3.0 * y), -POPCORN_TAN_LIMIT, POPCORN_TAN_LIMIT)
        return wp.vec2(x + e * fast_sin(ty), y + f * fast_sin(tx))

    @wp.func
    def v_cosine(x: float, y: float, e: float, f: float) -> wp.vec2:
        px = 3.14159265358979 * x
        ey = wp.exp(y)
        iy = 1.0 / ey
        return wp.vec2(fast_cos(px) * 0.5 * (ey + iy), -fast_sin(px) * 0.5 * (ey - iy))

    @wp.func
    def v_eyefish(x: float, y: float, e: float, f: float) -> wp.vec2:
        return eye_scale(x, y) * wp.vec2(x, y)

    @wp.func
    def v_cylinder(x: float, y: float, e: float, f: float) -> wp.vec2:
        return wp.vec2(fast_sin(x), y)

    variations = [
        v_none, v_sinusoidal, v_swirl, v_horseshoe, v_bent, v_fisheye, v_popcorn, v_cosine, v_eyefish,
        v_cylinder,
    ]  # fmt: skip
    assert len(variations) == len(VARIATIONS)

    return variations


# ---------------------------------------------------------------------------------------------------------
# the chaos game and its splatting
# ---------------------------------------------------------------------------------------------------------


def chaos_game_np(
    maps: np.ndarray,
    probs: np.ndarray,
    variation: int,
    n_points: int,
    iterations: int,
    burn_in: int,
    seed: int,
    colors: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Reference chaos game: every visited position after the burn-in, vectorised over (frame, point).

    Returns ``xy`` of shape ``(F, n_points, iterations - burn_in, 2)`` and, when ``colors`` (``(F, M, 3)``)
    is given, the running colour of each position with the same leading shape. The framing step uses
    this with a few hundred points, and the kernel test compares its histogram with the Warp one.
    """
    maps = np.asarray(maps, dtype=np.float32)
    table = choice_table(probs)
    n_frames = maps.shape[0]
    kept = iterations - burn_in
    frame_idx = np.repeat(np.arange(n_frames), n_points)
    keys = thread_keys_np(seed, np.arange(n_frames * n_points))
    x = uniform_np(keys, 0) * np.float32(2.0) - np.float32(1.0)
    y = uniform_np(keys, 1) * np.float32(2.0) - np.float32(1.0)
    col = np.zeros((n_frames * n_points, 3), np.float32)
    out = np.empty((n_frames * n_points, max(kept, 0), 2), np.float32)
    out_col = np.empty((n_frames * n_points, max(kept, 0), 3), np.float32) if colors is not None else None
    rows = table[frame_idx]
    for it in range(iterations):
        j = choose_np(keys, it, rows)
        m = maps[frame_idx, j]
        nx = m[:, 0] * x + m[:, 1] * y + m[:, 4]
        ny = m[:, 2] * x + m[:, 3] * y + m[:, 5]
        with np.errstate(all="ignore"):
            nx, ny = apply_variation_np(variation, nx, ny, m[:, 4], m[:, 5])
            bad = ~((np.abs(nx) < ESCAPE_RADIUS) & (np.abs(ny) < ESCAPE_RADIUS))
        x = np.where(bad, np.float32(0.0), nx).astype(np.float32)
        y = np.where(bad, np.float32(0.0), ny).astype(np.float32)
        if colors is not None:
            col = np.float32(0.5) * (col + colors[frame_idx, j])
        if it >= burn_in:
            out[:, it - burn_in, 0] = x
            out[:, it - burn_in, 1] = y
            if out_col is not None:
                out_col[:, it - burn_in] = col
    shape = (n_frames, n_points, max(kept, 0))
    return out.reshape(*shape, 2), None if out_col is None else out_col.reshape(*shape, 3)


def splat_np(
    xy: np.ndarray, views: np.ndarray, height: int, width: int, point_colors: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Reference splatting of ``chaos_game_np`` positions through per-frame homographies ``views``.

    ``views`` is ``(F, V, 3, 3)`` mapping fractal coordinates to pixel coordinates (x right, y down).
    Returns the count histogram ``(F, H, W)`` and, with ``point_colors``, the colour sums ``(F, H, W, 3)``.
    """
    n_frames = xy.shape[0]
    counts = np.zeros((n_frames, height, width), np.float32)
    rgb = np.zeros((n_frames, height, width, 3), np.float32) if point_colors is not None else None
    for f in range(n_frames):
        px = xy[f].reshape(-1, 2)
        pc = None if point_colors is None else point_colors[f].reshape(-1, 3)
        for h in np.asarray(views[f], np.float32):
            w = h[2, 0] * px[:, 0] + h[2, 1] * px[:, 1] + h[2, 2]
            ok = w > np.float32(1e-6)
            with np.errstate(all="ignore"):
                u = (h[0, 0] * px[:, 0] + h[0, 1] * px[:, 1] + h[0, 2]) / w
                v = (h[1, 0] * px[:, 0] + h[1, 1] * px[:, 1] + h[1, 2]) / w
            ok &= (u >= 0) & (v >= 0) & (u < width) & (v < height)
            iu = np.floor(u[ok]).astype(np.int64)
            iv = np.floor(v[ok]).astype(np.int64)
            np.add.at(counts[f], (iv, iu), 1.0)
            if rgb is not None and pc is not None:
                for c in range(3):
                    np.add.at(rgb[f, :, :, c], (iv, iu), pc[ok, c])
    return counts, rgb


def render_histograms_np(
    maps: np.ndarray,
    probs: np.ndarray,
    views: np.ndarray,
    height: int,
    width: int,
    variation: int,
    n_points: int,
    iterations: int,
    burn_in: int,
    seed: int,
    colors: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Numpy twin of :func:`render_histograms` (slow; for tests and small framing passes)."""
    xy, pc = chaos_game_np(maps, probs, variation, n_points, iterations, burn_in, seed, colors)
    return splat_np(xy, views, height, width, pc)


@functools.cache
def _splat_funcs() -> dict:
    """Warp twins of the projection and pixel splatting in :func:`splat_np` (built on first use)."""
    wp = warp()

    @wp.func
    def splat_pixel(
        counts: wp.array3d(dtype=wp.float32),
        rgb: wp.array3d(dtype=wp.vec3),
        f: int,
        u: float,
        v: float,
        col: wp.vec3,
        use_color: bool,
    ):
        # Range test in float, then truncate: for non-negative values truncation is floor, and it avoids
        # a libm floor call per splat (the hottest line of the kernel on CPU).
        if u >= 0.0 and v >= 0.0 and u < float(counts.shape[2]) and v < float(counts.shape[1]):
            iu = int(u)
            iv = int(v)
            counts[f, iv, iu] += 1.0
            if use_color:
                rgb[f, iv, iu] += col

    @wp.func
    def project(h: wp.mat33, x: float, y: float, perspective: bool) -> wp.vec2:
        pu = h[0, 0] * x + h[0, 1] * y + h[0, 2]
        pv = h[1, 0] * x + h[1, 1] * y + h[1, 2]
        if perspective:
            w = h[2, 0] * x + h[2, 1] * y + h[2, 2]
            if w > 1.0e-6:
                inv = 1.0 / w
                pu = pu * inv
                pv = pv * inv
            else:
                pu = -1.0
        return wp.vec2(pu, pv)

    return {"project": project, "splat_pixel": splat_pixel}


@kernel_family
def chaos_game_kernels(
    variation: int, perspective: bool, use_color: bool, two_views: bool, lanes: int, fractal_space: bool
):
    """One specialisation of the chaos game; every argument is a compile-time constant (``wp.static``).

    Without a variation and with affine views, the host conjugates the maps by view 0 (``H M H^-1``), so
    a position *is* its view-0 pixel and splatting needs no transform (views after the first arrive as
    ``H_k H_0^-1``); otherwise (or with ``fractal_space``, for a singular view) positions stay in fractal
    coordinates and each view is applied per splat.
    Each thread runs ``lanes`` points side by side: one point's steps form a dependency chain (map,
    variation, escape test, next map), and interleaving independent chains lets a CPU core overlap
    them. With one hash per two steps (see :func:`choose_np`), compiling all of this in instead of
    branching per step made the plain kernel about 2x and the variation kernels about 1.45x faster on
    CPU (256 px, 18 frames, 128 x 7,500: 0.26 -> 0.13 s; horseshoe 0.49 -> 0.34 s). Each specialisation
    is its own Warp module, compiled (or loaded from Warp's cache) the first time a clip needs it.
    """
    wp = warp()
    pcg_hash, uniform = _rng_funcs()["pcg_hash"], _rng_funcs()["uniform"]
    project, splat_pixel = _splat_funcs()["project"], _splat_funcs()["splat_pixel"]
    vary = _variation_funcs()[variation]
    pixel_space = variation == 0 and not perspective and not fractal_space
    lane_floats = wp.types.vector(length=lanes, dtype=wp.float32)
    lane_keys = wp.types.vector(length=lanes, dtype=wp.uint32)
    lane_colors = wp.types.matrix(shape=(lanes, 3), dtype=wp.float32)

    @wp.kernel(**KERNEL_OPTIONS)
    def chaos_game(
        maps: wp.array2d(dtype=wp.mat33),
        choice: wp.array2d(dtype=wp.int32),
        colors: wp.array2d(dtype=wp.vec3),
        views: wp.array2d(dtype=wp.mat33),
        n_points: int,
        iterations: int,
        burn_in: int,
        seed: wp.uint32,
        counts: wp.array3d(dtype=wp.float32),
        rgb: wp.array3d(dtype=wp.vec3),
    ):
        f, t = wp.tid()
        h0 = views[f, 0]
        h1 = views[f, views.shape[1] - 1]
        xs = lane_floats()
        ys = lane_floats()
        keys = lane_keys()
        cols = lane_colors()
        for k in range(wp.static(lanes)):
            # Point t * lanes + k keeps its own random stream, so the result does not depend on lanes.
            key = pcg_hash(seed ^ pcg_hash(wp.uint32(f * n_points + t * wp.static(lanes) + k)))
            x = uniform(key, 0) * 2.0 - 1.0
            y = uniform(key, 1) * 2.0 - 1.0
            if wp.static(pixel_space):
                px = h0[0, 0] * x + h0[0, 1] * y + h0[0, 2]
                y = h0[1, 0] * x + h0[1, 1] * y + h0[1, 2]
                x = px
            keys[k] = key
            xs[k] = x
            ys[k] = y
        # A while loop over step pairs: Warp's range() iterator also handles negative steps, which cost
        # instructions on every iteration of this loop.
        n_pairs = (iterations + 1) // 2
        pair = wp.int32(0)  # a typed start, so Warp treats it as a loop variable, not a constant
        while pair < n_pairs:
            for k in range(wp.static(lanes)):
                r = pcg_hash(keys[k] + wp.uint32(2 + pair))  # see choose_np: one hash, two steps
                for half in range(2):
                    it = 2 * pair + half
                    if it < iterations:
                        bits = (r >> wp.uint32(32 - CHOICE_BITS * (1 + half))) & wp.uint32(CHOICE_MASK)
                        j = choice[f, int(bits)]
                        m = maps[f, j]
                        x = m[0, 0] * xs[k] + m[0, 1] * ys[k] + m[0, 2]
                        y = m[1, 0] * xs[k] + m[1, 1] * ys[k] + m[1, 2]
                        if wp.static(variation != 0):
                            v = wp.static(vary)(x, y, m[0, 2], m[1, 2])
                            x = v[0]
                            y = v[1]
                            if not (wp.abs(x) < ESCAPE_RADIUS and wp.abs(y) < ESCAPE_RADIUS):
                                x = 0.0
                                y = 0.0
                        xs[k] = x
                        ys[k] = y
                        col = wp.vec3(0.0, 0.0, 0.0)
                        if wp.static(use_color):
                            col = 0.5 * (cols[k] + colors[f, j])
                            cols[k] = col
                        if it >= burn_in:
                            if wp.static(pixel_space):
                                splat_pixel(counts, rgb, f, x, y, col, wp.static(use_color))
                            else:
                                q = project(h0, x, y, wp.static(perspective))
                                splat_pixel(counts, rgb, f, q[0], q[1], col, wp.static(use_color))
                            if wp.static(two_views):
                                q = project(h1, x, y, wp.static(perspective))
                                splat_pixel(counts, rgb, f, q[0], q[1], col, wp.static(use_color))
            pair += 1

    return chaos_game


def lanes_for(n_points: int, device: str) -> int:
    """Points per thread: :data:`CPU_LANES` on CPU when it divides ``n_points`` (else 2 or 1), one on a
    GPU, where parallelism comes from threads and fewer of them would only leave the GPU idle."""
    if not str(device).startswith("cpu"):
        return 1
    return next(k for k in (CPU_LANES, 2, 1) if n_points % k == 0)


def chaos_game_kernel(
    variation: int,
    perspective: bool,
    use_color: bool,
    two_views: bool,
    lanes: int,
    device: str,
    fractal_space: bool = False,
):
    """The specialised kernel for these settings, compiled or loaded on ``device`` (thread-safe; see
    :func:`chaos_game_kernels`)."""
    if not 0 <= variation < len(VARIATIONS):
        raise ValueError(f"unknown variation id {variation}")
    flags = (bool(perspective), bool(use_color), bool(two_views), int(lanes), bool(fractal_space))
    return chaos_game_kernels(int(variation), *flags, device=device)


# ---------------------------------------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------------------------------------


def render_histograms(
    maps: np.ndarray,
    probs: np.ndarray,
    views: np.ndarray,
    height: int,
    width: int,
    variation: int,
    n_points: int,
    iterations: int,
    burn_in: int,
    seed: int,
    device: str = "cpu",
    colors: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Run the chaos game for every frame of a clip in one Warp launch and return the histograms.

    Args:
        maps: ``(F, M, 6)`` affine maps per frame as ``(a, b, c, d, e, f)``: ``x' = a x + b y + e``,
            ``y' = c x + d y + f``.
        probs: ``(F, M)`` map probabilities (normalised here), resolved through :func:`choice_table`.
        views: ``(F, V, 3, 3)`` homographies from fractal coordinates to pixels, V = 1, or 2 for a
            cloned instance; every visited position is splatted once per view.
        height, width: histogram size in pixels.
        variation: index into :data:`VARIATIONS`.
        n_points, iterations, burn_in: points per frame, map applications per point, and how many of the
            first applications are not splatted.
        seed: 32-bit seed of the counter-based RNG.
        device: a Warp device name (see :func:`usd_synth.kernels.device.resolve_device`).
        colors: optional ``(F, M, 3)`` map colours; each point carries the running average of the colours
            of the maps it went through, and their sum per pixel is returned as the second array.

    Returns:
        ``counts`` ``(F, H, W)`` float32 and ``rgb`` ``(F, H, W, 3)`` float32 (``None`` without colours).
    """
    wp = warp()
    maps = np.asarray(maps, dtype=np.float32)
    table = choice_table(probs)
    views = np.asarray(views, dtype=np.float32)
    if views.ndim != 4 or views.shape[1] not in (1, 2) or views.shape[2:] != (3, 3):
        raise ValueError(f"views must be (frames, 1 or 2, 3, 3), got {views.shape}")
    n_frames = maps.shape[0]
    use_color = colors is not None
    col = np.ascontiguousarray(colors if use_color else np.zeros((n_frames, maps.shape[1], 3)), np.float32)
    # The kernel reads each map as one mat33 load: rows (a, b, e) and (c, d, f); the last row (0, 0, 1)
    # is only read by the host-side conjugation below.
    packed = np.zeros((*maps.shape[:2], 3, 3), np.float32)
    packed[..., 0, :] = maps[..., [0, 1, 4]]
    packed[..., 1, :] = maps[..., [2, 3, 5]]
    packed[..., 2, 2] = 1.0
    perspective = bool((views[:, :, 2, :2] != 0.0).any())
    invertible = bool((np.abs(np.linalg.det(views[:, 0].astype(np.float64))) > 1e-12).all())
    if variation == 0 and not perspective and invertible:
        packed, views = _to_pixel_space(packed, views)
    lanes = lanes_for(n_points, device)
    two_views = views.shape[1] > 1
    kernel = chaos_game_kernel(variation, perspective, use_color, two_views, lanes, device, not invertible)
    # Every allocation and the launch name the device explicitly (no ScopedDevice): clip workers call
    # this from several threads at once, and the scoped default device is process-wide state.
    d_counts = wp.zeros((n_frames, height, width), dtype=wp.float32, device=device)
    d_rgb = wp.zeros((n_frames, height, width) if use_color else (1, 1, 1), dtype=wp.vec3, device=device)
    wp.launch(
        kernel,
        dim=(n_frames, n_points // lanes),
        inputs=[
            wp.array(packed, dtype=wp.mat33, device=device),
            wp.array(table, dtype=wp.int32, device=device),
            wp.array(col, dtype=wp.vec3, device=device),
            wp.array(np.ascontiguousarray(views), dtype=wp.mat33, device=device),
            int(n_points),
            int(iterations),
            int(burn_in),
            wp.uint32(int(seed) & 0xFFFFFFFF),
            d_counts,
            d_rgb,
        ],
        device=device,
    )
    counts = d_counts.numpy()
    rgb = d_rgb.numpy().reshape(n_frames, height, width, 3) if use_color else None
    return counts, rgb


def _to_pixel_space(packed: np.ndarray, views: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Conjugate affine maps by each frame's first view, ``H0 M H0^-1``, so the chaos game runs in view-0
    pixels; later views become ``H_k H0^-1`` and view 0 stays as given (it places the starting points).
    Done in float64, so the only difference from the fractal-space reference is float32 rounding."""
    h0 = views[:, 0].astype(np.float64)
    h0_inv = np.linalg.inv(h0)
    conj = h0[:, None] @ packed.astype(np.float64) @ h0_inv[:, None]
    out_views = views.astype(np.float64).copy()
    out_views[:, 1:] = views[:, 1:].astype(np.float64) @ h0_inv[:, None]
    return conj.astype(np.float32), out_views.astype(np.float32)


def warm_up(device: str = "cpu") -> None:
    """Compile (or load from Warp's kernel cache) the plain chaos-game kernel, the one most clips use, on
    ``device`` with a tiny launch, so a benchmark or a progress bar does not count its compilation.
    Other specialisations are built the first time a clip needs them."""
    maps = np.zeros((1, 1, 6), np.float32)
    render_histograms(maps, np.ones((1, 1)), np.eye(3)[None, None], 2, 2, 0, 1, 2, 0, 0, device=device)
