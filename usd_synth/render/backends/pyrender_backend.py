"""The default backend: pyrender (OpenGL 4.1 rasterizer), headless on EGL, OSMesa as the fallback.

How a stage becomes pixels:

- the stage is read once into a :class:`~usd_synth.render.scene_reader.SceneDescription`; static parts are
  uploaded once, merged by material (a room is a dozen draw calls), drawn after the actors and smallest
  first, so that the depth test spares the shading of most hidden surfaces;
- each frame, the actors are skinned with the project's Warp LBS kernel (UsdSkel's joint transforms) and
  only their vertex buffers are rewritten (``glBufferSubData`` on the primitives' interleaved
  position/normal/uv/id buffer): no node or buffer is rebuilt (about 1 ms a frame for one actor);
- the camera is :func:`usd_synth.render.camera.camera_model` (USD's camera in OpenCV terms) turned into a
  ``pyrender.IntrinsicsCamera``. pyrender puts pixel centres at half-integers, ours are at integers, so
  its principal point is ours plus half a pixel;
- the colour pass uses usd-synth's own shaders (``shaders/mesh.vert``, ``shaders/mesh.frag``: Lambert plus
  a GGX-shaped highlight, one bilinear shadow compare done by the sampler, gamma 2) in place of pyrender's
  PBR pair, which cost about twice as much on a CPU rasterizer, with shadows from the key light; see
  :meth:`PyrenderSession._add_lights` for how USD lights become at most three rasterizer lights and an
  auto-exposure. pyrender's programs are handed out by a cache that skips uniforms a program already
  holds (pyrender sets every light again for each primitive). Multisampling is off by default
  (``USD_SYNTH_MSAA=4`` turns it on): on Mesa's llvmpipe 4 samples double the cost of a frame;
- depth and instance ids come out of the same colour pass: each vertex carries its instance id, the
  fragment shader writes it to the alpha channel, so every pixel holds exactly one instance's id and the
  depth of the surface at the pixel centre. Where that cannot work (no colour pass, ids above 255,
  a semi-transparent material, multisampling) a flat id pass (``RenderFlags.SEG``, colour = id in two
  bytes) over one flat mesh per instance does it instead. The semantic mask is a table look-up of the
  instance mask;
- normals (optional) are derived from the depth map (camera-space cross products, then to world);
- actors are posed at the nearest frame of a fractional time code; the camera at the exact time.

``PYOPENGL_PLATFORM`` must be set before OpenGL is first imported: this module sets it to ``egl`` unless
the user set it, and a context that cannot start is a :class:`UsdSynthError` naming the system packages.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import logging
import os
import time as _time
from pathlib import Path

import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.render.camera import CameraModel, camera_model
from usd_synth.render.protocol import DEFAULT_PASSES, IMAGE_PASSES, Instance
from usd_synth.render.scene_reader import SceneDescription, read_scene, resolve_camera

log = logging.getLogger(__name__)

#: OpenCV camera axes -> OpenGL camera axes (x right, y up, looking down -z).
CV_TO_GL = np.diag([1.0, -1.0, -1.0, 1.0])
#: Irradiance (pyrender units) the lights deliver to the actors' centre after auto-exposure.
TARGET_IRRADIANCE = 3.4
#: Ambient (the dome) as a fraction of white.
AMBIENT_RANGE = (0.12, 0.45)
#: How far the virtual camera white-balances towards the lights' colour (0: none, 1: all neutral).
WHITE_BALANCE = 0.5
#: Display value of the background (the dome's colour) where no geometry is, e.g. the sky outdoors.
SKY_BRIGHTNESS = 0.8
#: Share of the ceiling lights' light that the shadow-casting key light carries indoors.
KEY_SHARE = 0.45

_GL_HELP = (
    "no working OpenGL for headless rendering: install the system packages libegl1 libegl-mesa0 "
    "libgl1-mesa-dri (EGL), or libosmesa6 and set PYOPENGL_PLATFORM=osmesa"
)


#: usd-synth's colour-pass shaders (``mesh.vert``, ``mesh.frag``): pyrender's inputs and uniforms, a
#: cheaper model of light (see the comments at the top of each file).
SHADERS = Path(__file__).with_name("shaders")


@functools.cache
def _shader_dir() -> str:
    """pyrender's shaders with usd-synth's colour-pass pair in their place, in a folder that lives as long
    as the process (pyrender's program cache reads shaders by file name from one folder)."""
    import atexit
    import shutil
    import tempfile

    import pyrender

    src = Path(pyrender.__file__).parent / "shaders"
    dst = Path(tempfile.mkdtemp(prefix="usd-synth-shaders-"))
    atexit.register(shutil.rmtree, dst, True)
    for folder in (src, SHADERS):
        for f in folder.iterdir():
            if f.is_file() and f.suffix in (".vert", ".frag", ".geom"):
                shutil.copy(f, dst / f.name)
    return str(dst)


@functools.cache
def _program_cache_class():
    """pyrender's shader program cache, handing out programs that skip uniforms they already hold.

    pyrender sets every light's uniforms and the camera's again for each primitive it draws (about 280
    calls a frame for a room and an actor), each a location look-up and a PyOpenGL call; most carry the
    value the program holds already. A GL program keeps its uniforms until they are set again, so
    remembering the last value set per program is exact."""
    from pyrender.shader_program import ShaderProgram, ShaderProgramCache

    class HeldUniformsProgram(ShaderProgram):
        def set_uniform(self, name, value, unsigned=False):
            held = self.__dict__.setdefault("_usd_synth_held", {})
            if isinstance(value, np.ndarray):
                key = (value.dtype.str, value.shape, value.tobytes(), unsigned)
            else:
                key = (type(value), value, unsigned)
            if held.get(name) == key:
                return
            held[name] = key
            super().set_uniform(name, value, unsigned)

    class HeldUniformsCache(ShaderProgramCache):
        #: {"N_SPOT_LIGHTS": 1, ...}: the scene's light counts, compiled into the colour pass's shader
        light_counts: dict[str, int] = {}

        def get_program(self, vertex_shader, fragment_shader, geometry_shader=None, defines=None):
            if fragment_shader == "mesh.frag" and self.light_counts:
                defines = {**(defines or {}), **self.light_counts}
            program = super().get_program(vertex_shader, fragment_shader, geometry_shader, defines)
            if type(program) is ShaderProgram:  # made just now by pyrender: give it the held values
                program.__class__ = HeldUniformsProgram
            return program

    return HeldUniformsCache


def _remember_per_pass(renderer) -> None:
    """Spare pyrender's renderer work it repeats for every primitive of a pass.

    - the program of a primitive depends only on the primitive and the flags: looked up once (pyrender
      rebuilds its defines and queries GL limits each time);
    - the lights' uniforms and shadow maps are the same for every primitive of a pass: bound in full for
      the first primitive of each program in a pass; later primitives only reserve the texture units the
      shadow maps hold (so that their own textures take the next units, as pyrender would give them).
    Both are exact because the scene's primitives, lights and flags do not change within a pass, and the
    backend makes at most three rasterizer lights (pyrender picks lights per node only beyond its limit)."""
    get_program, bind_lighting, forward_pass = (
        renderer._get_primitive_program,
        renderer._bind_lighting,
        renderer._forward_pass,
    )
    programs: dict = {}
    lit: dict = {}
    passes = itertools.count()
    current = [next(passes)]

    def _get_primitive_program(primitive, flags, program_flags):
        key = (id(primitive), int(flags), int(program_flags))
        if key not in programs:
            programs[key] = get_program(primitive, flags, program_flags)
        return programs[key]

    def _bind_lighting(scene, program, node, flags):
        key = (id(program), int(flags), current[0])
        if key in lit:
            renderer._texture_alloc_idx += lit[key]
            return
        before = renderer._texture_alloc_idx
        bind_lighting(scene, program, node, flags)
        if len(lit) > 64:  # keys of past passes
            lit.clear()
        lit[key] = renderer._texture_alloc_idx - before

    def _forward_pass(*args, **kwargs):
        current[0] = next(passes)
        return forward_pass(*args, **kwargs)

    renderer._get_primitive_program = _get_primitive_program
    renderer._bind_lighting = _bind_lighting
    renderer._forward_pass = _forward_pass


def _forget_per_pass(renderer) -> None:
    """Undo :func:`_remember_per_pass` (its wrappers refer back to the renderer: a reference cycle)."""
    for name in ("_get_primitive_program", "_bind_lighting", "_forward_pass"):
        renderer.__dict__.pop(name, None)


def _msaa_setting(msaa: int | None) -> int:
    """Multisampling of the colour pass: ``msaa`` or ``$USD_SYNTH_MSAA``, 0 (default) or 2..8 samples."""
    if msaa is None:
        text = os.environ.get("USD_SYNTH_MSAA", "0").strip() or "0"
        try:
            msaa = int(text)
        except ValueError:
            raise UsdSynthError(
                f"USD_SYNTH_MSAA must be a number of samples (0, 2, 4 or 8), got {text!r}"
            ) from None
    if msaa not in (0, 1, 2, 4, 8):
        raise UsdSynthError(f"msaa must be 0, 2, 4 or 8 samples, got {msaa}", field="msaa")
    return 0 if msaa == 1 else int(msaa)


@contextlib.contextmanager
def _framebuffer_samples(samples: int):
    """pyrender makes its framebuffer on the first render with 4 samples hard-wired; this makes it with
    ``samples`` (0: none). On a CPU rasterizer (llvmpipe) 4 samples double the cost of a lit frame."""
    import pyrender.renderer as pr_renderer

    original = pr_renderer.glRenderbufferStorageMultisample

    def storage(target, _samples, fmt, width, height):
        return original(target, samples, fmt, width, height)

    pr_renderer.glRenderbufferStorageMultisample = storage
    try:
        yield
    finally:
        pr_renderer.glRenderbufferStorageMultisample = original


def _import_pyrender():
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    if not hasattr(np, "infty"):  # pyrender 0.1.45 still spells np.inf the NumPy 1 way (Mesh.bounds)
        np.infty = np.inf
    try:
        import pyrender
    except ImportError as exc:
        if "pyrender" in str(exc):
            raise UsdSynthError(
                "the pyrender backend needs pyrender: pip install 'pyrender>=0.1.45'"
            ) from None
        raise UsdSynthError(f"{_GL_HELP} ({exc})") from None
    except Exception as exc:  # OpenGL raises odd types when libraries are missing
        raise UsdSynthError(f"{_GL_HELP} ({type(exc).__name__}: {exc})") from None
    return pyrender


class PyrenderRenderer:
    """``usd-synth render --backend pyrender`` (the default)."""

    name = "pyrender"
    description = "OpenGL rasterizer (pyrender), headless on EGL or OSMesa; fast, shadows from the key light"

    def __init__(self, shadows: bool = True, msaa: int | None = None) -> None:
        self.shadows = shadows
        self.msaa = msaa

    def open(self, stage_path, camera_path=None, resolution=(320, 240), passes=DEFAULT_PASSES):
        return PyrenderSession(Path(stage_path), camera_path, resolution, passes, self.shadows, self.msaa)


def check_passes(passes) -> tuple[str, ...]:
    passes = tuple(dict.fromkeys(passes))
    bad = [p for p in passes if p not in IMAGE_PASSES]
    if bad:
        raise UsdSynthError(
            f"passes: unknown pass {bad[0]!r}; a backend renders {', '.join(IMAGE_PASSES)}", field="passes"
        )
    return passes


def check_resolution(resolution) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in resolution)
    except (TypeError, ValueError):
        raise UsdSynthError(
            f"resolution must be (width, height), got {resolution!r}", field="resolution"
        ) from None
    if not (8 <= w <= 8192 and 8 <= h <= 8192):
        raise UsdSynthError(
            f"resolution must be between 8 and 8192 pixels a side, got {w}x{h}", field="resolution"
        )
    return w, h


class PyrenderSession:
    """One stage, one camera, one resolution; :meth:`render` gives one frame's layers."""

    def __init__(
        self,
        stage_path: Path,
        camera: str | None,
        resolution,
        passes,
        shadows: bool = True,
        msaa: int | None = None,
        cull_actor_back_faces: bool = True,
    ) -> None:
        self.shadows = shadows
        self.cull_actor_back_faces = cull_actor_back_faces
        self.msaa = _msaa_setting(msaa)
        self.passes = check_passes(passes)
        self.width, self.height = check_resolution(resolution)
        self.desc: SceneDescription = read_scene(stage_path)
        self.camera_path = resolve_camera(self.desc.stage, self.desc.cameras, camera, stage_path)
        self.instances: dict[str, Instance] = dict(self.desc.instances)
        self.timings = {"skinning": 0.0, "upload": 0.0, "render": 0.0}
        self._renderer = None
        self._last_camera: tuple[float, CameraModel] | None = None
        pyrender = _import_pyrender()
        self._pr = pyrender
        # shadow maps sized for the image (pyrender's default 2048^2 costs more than the frame itself)
        pyrender.light.SHADOW_TEX_SZ = int(
            min(2048, max(512, 2 ** np.ceil(np.log2(1.5 * max(self.width, self.height)))))
        )
        try:
            self._renderer = pyrender.OffscreenRenderer(self.width, self.height)
        except Exception as exc:
            raise UsdSynthError(
                f"{_GL_HELP} ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})"
            ) from None
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _setup(self) -> None:
        cache = _program_cache_class()(shader_dir=_shader_dir())
        self._renderer._renderer._program_cache = cache
        _remember_per_pass(self._renderer._renderer)
        self._build_scene()
        self._skinner = None
        if self.desc.skin_targets:
            from usd_synth.kernels.skinning import WarpSkinner, concat_skins

            targets = self.desc.skin_targets
            skin = concat_skins([t.skin for t in targets], [t.matrices.shape[1] for t in targets])
            self._table = np.concatenate([t.matrices for t in targets], axis=1).astype(np.float32)
            self._cuts = np.cumsum([0] + [t.skin.num_points for t in targets])
            self._skinner = WarpSkinner(skin, "cpu")
        self._frame_index = {f: i for i, f in enumerate(self.desc.frames)}
        self._interleaved: dict[int, np.ndarray] = {}
        self._lut = np.zeros(65536, np.uint16)
        for inst in self.instances.values():
            self._lut[inst.instance_id] = inst.semantic_id

    def _light_counts(self) -> dict[str, int]:
        """The scene's rasterizer lights by kind, compiled into the colour pass's fragment shader as
        ``N_*_LIGHTS``: the lights are fixed for the session, and constant loop bounds let llvmpipe unroll
        the light loops and index the shadow samplers statically (the shader costs about a third less)."""
        return {
            "N_DIRECTIONAL_LIGHTS": len(self.scene.directional_light_nodes),
            "N_SPOT_LIGHTS": len(self.scene.spot_light_nodes),
            "N_POINT_LIGHTS": len(self.scene.point_light_nodes),
        }

    # ------------------------------------------------------------------------------------- building ----
    def _material(self, m, cache, two_sided: bool = True):
        key = (id(m), two_sided)
        if key in cache:
            return cache[key]
        pr = self._pr
        tex = None
        if m.texture is not None:
            import imageio.v3 as iio

            img = np.asarray(iio.imread(m.texture))
            if img.ndim == 2:
                img = np.repeat(img[..., None], 3, axis=2)
            img = np.ascontiguousarray(img[..., :3])
            if img.dtype != np.uint8:
                img = (np.clip(img / np.iinfo(img.dtype).max, 0, 1) * 255).astype(np.uint8)
            tex = pr.Texture(source=img, source_channels="RGB", sampler=pr.Sampler())
            if not m.texture_srgb:
                log.info("%s: raw-colour-space texture treated as sRGB", m.name)
        mat = pr.MetallicRoughnessMaterial(
            baseColorFactor=(*m.base_color, m.opacity),
            metallicFactor=float(np.clip(m.metallic, 0, 1)),
            roughnessFactor=float(np.clip(m.roughness, 0.05, 1)),
            baseColorTexture=tex,
            doubleSided=two_sided,
            alphaMode="BLEND" if m.opacity < 1 else "OPAQUE",
        )
        cache[key] = (mat, m)
        return cache[key]

    def _primitive(self, part, materials, two_sided: bool = True):
        mat, m = self._material(part.material, materials, two_sided)
        texcoords = part.texcoords if (m.texture is not None and part.texcoords is not None) else None
        return self._pr.Primitive(
            positions=part.positions,
            normals=part.normals,
            texcoord_0=texcoords,
            color_0=_id_vertex_colors(part.instance_ids),
            indices=part.indices,
            material=mat,
        )

    def _add(self, obj, pose: np.ndarray | None = None):
        """Add a mesh, light or camera as a node numbered in the order it was added (see
        :func:`_numbered_node_class`); returns the node."""
        pr = self._pr
        kind = "mesh" if isinstance(obj, pr.Mesh) else "light" if isinstance(obj, pr.Light) else "camera"
        node = _numbered_node_class(pr)(next(self._node_numbers), matrix=pose, **{kind: obj})
        self.scene.add_node(node)
        return node

    def _build_scene(self) -> None:
        """One scene holding the colour geometry, static parts merged by material (a room is a dozen draw
        calls). Instance ids reach the pixels in one of two ways:

        - in the colour pass (when it is rendered anyway): every vertex carries its instance id in
          ``color_0`` and the fragment shader writes it to the alpha channel, so one pass gives colour,
          depth and ids. That needs ids up to 255, opaque materials only (a blended surface would blend
          the id) and no multisampling (a resolved edge pixel would average two ids);
        - otherwise in a flat id pass (``RenderFlags.SEG``) over one flat mesh per static instance, hidden
          in the colour pass (pyrender drops from its context whatever a rendered scene lacks, so both
          live in one scene)."""
        pr = self._pr
        self.scene = pr.Scene(bg_color=(0.0, 0.0, 0.0, 1.0), ambient_light=(0.3, 0.3, 0.3))
        self._node_numbers = itertools.count()
        self._ids_in_alpha = self._can_draw_ids_in_alpha()
        materials: dict = {}
        self._seg_map = {}
        self._seg_only: list = []
        flat = pr.MetallicRoughnessMaterial(baseColorFactor=(1, 1, 1, 1), doubleSided=True)
        # drawn front to back as far as a fixed order can (a CPU rasterizer skips the shading of what the
        # depth test rejects): the actors first, then the static parts, small ones before large ones
        # (props before the room's shell); pyrender keeps the order nodes were added in (equal poses)
        self._skinned = []  # (SkinnedObject, merged parts, [primitive ...])
        for obj in self.desc.skinned:
            parts = merge_parts([self._with_ids(p, obj.path) for p in obj.parts])
            # an actor's skin and clothes are closed, outward-facing surfaces: their back faces are never
            # seen, so they are culled (a third of an actor's drawing time); a room's walls are not
            prims = [self._primitive(p, materials, two_sided=not self.cull_actor_back_faces) for p in parts]
            node = self._add(pr.Mesh(prims))
            self._seg_map[node] = self._id_color(self.instances[obj.path].instance_id)
            self._skinned.append((obj, parts, prims))
        static_parts = [self._with_ids(p, obj.path) for obj in self.desc.statics for p in obj.parts]
        if static_parts:
            merged = sorted(merge_parts(static_parts), key=_extent)
            self._add(pr.Mesh([self._primitive(p, materials) for p in merged]))
        for obj in () if self._ids_in_alpha else self.desc.statics:
            whole = merge_parts(obj.parts, by_material=False)[0]
            mesh = pr.Mesh([pr.Primitive(positions=whole.positions, indices=whole.indices, material=flat)])
            mesh.is_visible = False
            node = self._add(mesh)
            self._seg_map[node] = self._id_color(self.instances[obj.path].instance_id)
            self._seg_only.append(mesh)
        self._add_lights()
        # the lights are fixed from here on: their counts are compiled into the colour pass's shader
        self._renderer._renderer._program_cache.light_counts = self._light_counts()
        if self._ids_in_alpha:  # the background's id is 0
            self.scene.bg_color = np.array([*self.scene.bg_color[:3], 0.0])
        self._cam_node = self._add(pr.IntrinsicsCamera(1, 1, 0, 0), pose=np.eye(4))
        # upload everything and compile the shaders once, so that frames do not pay for it; the first
        # render also makes the framebuffer, with ``msaa`` samples a pixel
        with _framebuffer_samples(self.msaa):
            self._renderer.render(self.scene, flags=self._colour_flags())
        self._compare_in_sampler()
        if not self._ids_in_alpha:
            self._render_ids()

    def _compare_in_sampler(self) -> None:
        """Set the shadow maps (made by the first render) to compare in the sampler with linear filtering,
        as ``shaders/mesh.frag`` samples them (``sampler2DShadow``): one lookup instead of four."""
        from OpenGL import GL

        self._renderer._platform.make_current()
        for light in self.scene.lights:
            texture = getattr(light, "shadow_texture", None)
            if texture is None or getattr(texture, "_texid", None) is None:
                continue
            GL.glBindTexture(GL.GL_TEXTURE_2D, texture._texid)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_COMPARE_MODE, GL.GL_COMPARE_REF_TO_TEXTURE)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_COMPARE_FUNC, GL.GL_LEQUAL)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_LINEAR)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)

    def _can_draw_ids_in_alpha(self) -> bool:
        """Whether the colour pass can carry the instance ids (see :meth:`_build_scene`)."""
        wants_ids = any(p in self.passes for p in ("depth", "instance", "semantic", "normals"))
        if not (wants_ids and "rgb" in self.passes and self.msaa == 0):
            return False
        if max((i.instance_id for i in self.instances.values()), default=0) > 255:
            return False
        objects = [*self.desc.statics, *self.desc.skinned]
        return all(part.material.opacity >= 1.0 for obj in objects for part in obj.parts)

    def _with_ids(self, part, path: str):
        """``part`` with its vertices' instance id, when the colour pass carries ids."""
        if not self._ids_in_alpha:
            return part
        ids = np.full(len(part.positions), self.instances[path].instance_id, np.uint16)
        return dataclasses.replace(part, instance_ids=ids)

    def _render_ids(self):
        from OpenGL import GL

        for mesh in self._seg_only:
            mesh.is_visible = True
        self._renderer._platform.make_current()
        GL.glDisable(GL.GL_MULTISAMPLE)
        try:
            flags = self._pr.RenderFlags.SEG | self._pr.RenderFlags.SKIP_CULL_FACES
            return self._renderer.render(self.scene, flags=flags, seg_node_map=self._seg_map)
        finally:
            GL.glEnable(GL.GL_MULTISAMPLE)
            for mesh in self._seg_only:
                mesh.is_visible = False

    def _rgb_flags(self):
        return self._shadow_flags if self.shadows else self._pr.RenderFlags.NONE

    def _colour_flags(self):
        """The colour pass's flags: with RGBA read back where the instance ids ride in alpha."""
        return self._rgb_flags() | self._pr.RenderFlags.RGBA if self._ids_in_alpha else self._rgb_flags()

    @staticmethod
    def _id_color(instance_id: int) -> np.ndarray:
        return np.array([instance_id & 255, (instance_id >> 8) & 255, 0], dtype=np.uint8)

    def _add_lights(self) -> None:
        """USD lights -> at most three pyrender lights, exposed for the actors.

        A rasterizer pays per light per pixel, and USD's units do not map onto pyrender's, so:

        - outdoors, the strongest ``DistantLight`` is the key, a ``DirectionalLight`` with shadows;
        - indoors, the ceiling light nearest above the actors is the key, a ``SpotLight`` with shadows
          (``KEY_SHARE`` of the light; pyrender shadows only directional and spot lights), and the other
          emitters are one shadowless ``DirectionalLight`` fill from their power-weighted centre towards the
          actors (a grid of ceiling lights lights a room evenly; a point light under the ceiling would
          paint a hot spot on it). Directional shadows are then off, or the ceiling would shadow the fill;
        - the dome is the ambient term and the colour of the background (the sky).

        Relative strengths and colours are kept (colours white-balanced halfway, as a camera does) and
        the rig is scaled so that the actors' centre receives ``TARGET_IRRADIANCE``: an auto-exposure."""
        pr = self._pr
        flags = pr.RenderFlags
        lights = self.desc.lights
        bounds = self.desc.bounds
        centre = (bounds[0] + bounds[1]) / 2 if bounds is not None else np.zeros(3)
        emitters = [
            (lt, lt.intensity * max(lt.area, 1e-4)) for lt in lights if lt.kind in ("sphere", "rect", "disk")
        ]
        emitters = [(lt, p) for lt, p in emitters if p > 0]
        suns = [lt for lt in lights if lt.kind == "distant" and lt.intensity > 0]
        domes = [lt for lt in lights if lt.kind == "dome" and lt.intensity > 0]
        self._shadow_flags = flags.NONE
        if suns:
            sun = max(suns, key=lambda lt: lt.intensity)
            share = 1.0 if not emitters else 0.7
            light = pr.DirectionalLight(color=_white_balance(sun.color), intensity=TARGET_IRRADIANCE * share)
            self._add(light, pose=_look_pose(centre - sun.direction * 10.0, centre))
            self._shadow_flags = flags.SHADOWS_DIRECTIONAL
        if emitters:
            share = 1.0 if not suns else 0.3
            total = sum(p for _, p in emitters)
            color = _white_balance(sum(lt.color * p for lt, p in emitters) / total)
            key, _ = min(emitters, key=lambda lp: np.sum((lp[0].position[:2] - centre[:2]) ** 2))
            if not suns:
                # the key hangs a little below the ceiling, so that the ceiling does not shadow it
                key_pos = key.position - np.array([0.0, 0.0, 0.3])
                d2 = max(np.sum((key_pos - centre) ** 2), 0.25)
                spot = pr.SpotLight(
                    color=_white_balance(key.color),
                    intensity=KEY_SHARE * share * TARGET_IRRADIANCE * d2,
                    innerConeAngle=0.7,
                    outerConeAngle=1.05,  # pyrender's shadow camera needs 2 * outer + pi/16 < pi
                )
                self._add(spot, pose=_look_pose(key_pos, centre))
                self._shadow_flags = flags.SHADOWS_SPOT
                share *= 1.0 - KEY_SHARE
            fill_from = sum(lt.position * p for lt, p in emitters) / total
            if suns:
                d2 = max(np.sum((fill_from - centre) ** 2), 0.25)
                fill = pr.PointLight(color=color, intensity=share * TARGET_IRRADIANCE * d2)
                self._add(fill, pose=_translation(fill_from))
            else:
                fill = pr.DirectionalLight(color=color, intensity=share * TARGET_IRRADIANCE)
                self._add(fill, pose=_look_pose(fill_from + np.array([0.0, 0.0, 1.0]), centre))
        if not suns and not emitters:
            # only a dome (or nothing): a soft shadowless key from above, so that nothing renders black
            color = _white_balance(domes[0].color) if domes else np.ones(3)
            light = pr.DirectionalLight(color=color, intensity=0.6 * TARGET_IRRADIANCE)
            self._add(light, pose=_look_pose(centre + np.array([1.0, -2.0, 4.0]), centre))
        amb = sum(np.sqrt(lt.intensity / 750.0) * 0.28 for lt in domes)
        amb = float(np.clip(amb, *AMBIENT_RANGE)) if domes else AMBIENT_RANGE[0]
        self.scene.ambient_light = (_white_balance(domes[0].color) if domes else np.ones(3)) * amb
        if domes:  # what the camera sees where no geometry is: the sky outdoors
            sky = _white_balance(domes[0].color, 0.75) * SKY_BRIGHTNESS
            self.scene.bg_color = np.array([*np.clip(sky, 0.0, 1.0), 1.0])

    # -------------------------------------------------------------------------------------- frames ----
    def camera(self, time_code: float) -> CameraModel:
        """The camera at ``time_code``; the last one is kept, as a frame's render and its labels both ask
        (USD's camera and transform queries cost ~0.7 ms)."""
        t = float(time_code)
        last = self._last_camera
        if last is None or last[0] != t:
            prim = self.desc.stage.GetPrimAtPath(self.camera_path)
            last = self._last_camera = (t, camera_model(prim, t, self.width, self.height))
        return last[1]

    def skinned_points(self, time_code: float) -> list[np.ndarray]:
        """World-space skinned points (V, 3) of every skin target at ``time_code`` (nearest frame)."""
        if self._skinner is None:
            return []
        f = self._frame_of(time_code)
        points, normals = self._skinner.skin(self._table[f : f + 1])
        self._last_normals = normals[0]
        return [points[0, a:b] for a, b in zip(self._cuts[:-1], self._cuts[1:], strict=True)]

    def _frame_of(self, time_code: float) -> int:
        frames = self.desc.frames
        f = int(np.clip(round(float(time_code)), frames[0], frames[-1]))
        return self._frame_index.get(f, 0)

    def _update_actors(self, time_code: float) -> None:
        from OpenGL import GL

        t0 = _time.perf_counter()
        per_target = self.skinned_points(time_code)
        normals_all = self._last_normals if per_target else None
        t1 = _time.perf_counter()
        self._renderer._platform.make_current()
        for obj, parts, prims in self._skinned:
            a = self._cuts[obj.target]
            pts = per_target[obj.target]
            nrm = normals_all[a : a + len(pts)]
            for part, prim in zip(parts, prims, strict=True):
                data = self._vertex_data(prim)
                np.take(pts, part.gather, axis=0, out=data[:, 0:3])
                np.take(nrm, part.gather, axis=0, out=data[:, 3:6])
                GL.glBindBuffer(GL.GL_ARRAY_BUFFER, prim._buffers[0])
                GL.glBufferSubData(GL.GL_ARRAY_BUFFER, 0, data.nbytes, data)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)
        t2 = _time.perf_counter()
        self.timings["skinning"] += t1 - t0
        self.timings["upload"] += t2 - t1

    def _vertex_data(self, prim) -> np.ndarray:
        """A skinned primitive's interleaved vertex rows as pyrender lays them out (position, normal, then
        the constant uv and id columns), kept between frames: only the first six columns change."""
        data = self._interleaved.get(id(prim))
        if data is None:
            cols = [prim.positions, prim.normals]
            if prim.texcoord_0 is not None:
                cols.append(prim.texcoord_0)
            if prim.color_0 is not None:  # the instance ids
                cols.append(prim.color_0)
            data = self._interleaved[id(prim)] = np.ascontiguousarray(np.hstack(cols), dtype=np.float32)
        return data

    def _set_camera(self, cam: CameraModel) -> None:
        pr = self._pr
        K = cam.K
        near = max(cam.near, 1e-3)
        far = cam.far if np.isfinite(cam.far) and cam.far > near else None
        # pyrender: pixel centres at half-integers; ours at integers -> principal point + 0.5
        intr = pr.IntrinsicsCamera(K[0, 0], K[1, 1], K[0, 2] + 0.5, K[1, 2] + 0.5, znear=near, zfar=far)
        self._cam_node.camera = intr
        self.scene.set_pose(self._cam_node, cam.camera_to_world @ CV_TO_GL)

    def render(self, time_code: float) -> dict[str, np.ndarray]:
        if self._renderer is None:
            raise UsdSynthError("the render session is closed")
        self._update_actors(time_code)
        cam = self.camera(time_code)
        self._set_camera(cam)
        t0 = _time.perf_counter()
        out: dict[str, np.ndarray] = {}
        if "rgb" in self.passes:
            color, depth = self._renderer.render(self.scene, flags=self._colour_flags())
            out["rgb"] = np.ascontiguousarray(color[..., :3])
            if self._ids_in_alpha:
                ids = color[..., 3].astype(np.uint16)
        if any(p in self.passes for p in ("depth", "instance", "semantic", "normals")):
            if not self._ids_in_alpha:
                seg, depth = self._render_ids()
                ids = seg[..., 0].astype(np.uint16) | (seg[..., 1].astype(np.uint16) << 8)
            depth = depth.astype(np.float32)
            ids[depth <= 0] = 0
            if "depth" in self.passes:
                out["depth"] = depth
            if "instance" in self.passes:
                out["instance"] = ids
            if "semantic" in self.passes:
                out["semantic"] = self._lut[ids]
            if "normals" in self.passes:
                out["normals"] = normals_from_depth(depth, cam)
        self.timings["render"] += _time.perf_counter() - t0
        return out

    def close(self) -> None:
        """Free the GL objects and the context. On EGL the display is shared by every session of the
        process, so it is never terminated (pyrender's own ``delete`` would kill the other sessions)."""
        r, self._renderer = self._renderer, None
        if r is None:
            return
        plat = r._platform
        try:
            plat.make_current()
            r._renderer.delete()
        finally:
            # pyrender's delete leaves its shadow framebuffer's name set, and its __del__ deletes again:
            # that second delete must not run later in another session's context (it would free that
            # session's framebuffer of the same name), so the name is cleared and the per-pass wrappers,
            # which refer back to the renderer, are removed so that it is freed now
            r._renderer._shadow_fb = None
            _forget_per_pass(r._renderer)
            if getattr(plat, "_egl_display", None) is not None:
                from OpenGL import EGL

                EGL.eglMakeCurrent(
                    plat._egl_display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, EGL.EGL_NO_CONTEXT
                )
                if plat._egl_context is not None:
                    EGL.eglDestroyContext(plat._egl_display, plat._egl_context)
                plat._egl_context = None
                plat._egl_display = None
            else:
                plat.delete_context()
            r._renderer = None
            r._platform = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):  # pragma: no cover - best effort
        with contextlib.suppress(Exception):
            self.close()


def merge_parts(parts: list, by_material: bool = True) -> list:
    """Parts concatenated per material (or all into one): fewer primitives, fewer draw calls."""
    from usd_synth.render.scene_reader import Part

    groups: dict[int, list] = {}
    for p in parts:
        groups.setdefault(id(p.material) if by_material else 0, []).append(p)
    out = []
    for group in groups.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        offsets = np.cumsum([0] + [len(p.positions) for p in group])
        has_uv = all(p.texcoords is not None for p in group)
        has_gather = all(p.gather is not None for p in group)
        has_ids = all(p.instance_ids is not None for p in group)
        out.append(
            Part(
                positions=np.concatenate([p.positions for p in group]),
                normals=np.concatenate([p.normals for p in group]),
                indices=np.concatenate(
                    [p.indices + np.uint32(o) for p, o in zip(group, offsets, strict=False)]
                ),
                material=group[0].material,
                texcoords=np.concatenate([p.texcoords for p in group]) if has_uv else None,
                gather=np.concatenate([p.gather for p in group]) if has_gather else None,
                instance_ids=np.concatenate([p.instance_ids for p in group]) if has_ids else None,
            )
        )
    return out


def _extent(part) -> float:
    """The diagonal of a part's bounding box, metres."""
    return float(np.linalg.norm(np.ptp(part.positions, axis=0))) if len(part.positions) else 0.0


def _id_vertex_colors(ids: np.ndarray | None) -> np.ndarray | None:
    """Per-vertex instance ids (0..255) as the ``color_0`` attribute the colour-pass shader writes to
    alpha: red = id / 255 (exact in an 8-bit channel), alpha 1 (pyrender sorts alpha < 1 as transparent)."""
    if ids is None:
        return None
    out = np.zeros((len(ids), 4), np.float32)
    out[:, 0] = ids.astype(np.float32) / 255.0
    out[:, 3] = 1.0
    return out


def normals_from_depth(depth: np.ndarray, cam: CameraModel) -> np.ndarray:
    """World-space unit normals (H, W, 3) from a depth map (0 where there is no depth or no neighbour)."""
    h, w = depth.shape
    K = cam.K
    u, v = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    x = (u - K[0, 2]) / K[0, 0] * depth
    y = (v - K[1, 2]) / K[1, 1] * depth
    p = np.stack([x, y, depth], axis=-1)
    dx = np.zeros_like(p)
    dy = np.zeros_like(p)
    dx[:, 1:-1] = p[:, 2:] - p[:, :-2]
    dy[1:-1] = p[2:] - p[:-2]
    n = np.cross(dy, dx)
    norm = np.linalg.norm(n, axis=-1, keepdims=True)
    valid = (norm[..., 0] > 0) & (depth > 0)
    n = np.where(valid[..., None], n / np.maximum(norm, 1e-12), 0.0)
    # camera (OpenCV) -> world
    rot = cam.camera_to_world[:3, :3]
    n = n @ rot.T
    return n.astype(np.float32)


def _white_balance(color: np.ndarray, amount: float = WHITE_BALANCE) -> np.ndarray:
    """A light's colour as a camera that white-balances ``amount`` of the way towards it sees it
    (peak 1): a 3000 K light looks warm, not orange."""
    c = np.asarray(color, dtype=np.float64)
    c = c / max(float(c.max()), 1e-6)
    return (1.0 - amount) * c + amount * np.ones(3)


def _translation(t: np.ndarray) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = t
    return m


@functools.cache
def _numbered_node_class(pr):
    """A ``pyrender.Node`` whose hash is its number within its scene.

    Why: pyrender keeps nodes in sets and draws solid meshes at equal distance from the camera in set
    order. With identity hashes (memory addresses) that order changed from run to run, so where two
    surfaces are coplanar (a wall box meeting the floor box) the id pass gave the seam to one instance in
    one run and to the other in the next: masks and labels were not repeatable. Numbered hashes make the
    draw order, and so every pixel, the same for the same scene.
    """

    class NumberedNode(pr.Node):
        def __init__(self, number: int, **kwargs) -> None:
            super().__init__(**kwargs)
            self.number = number

        def __hash__(self) -> int:
            return self.number

        def __eq__(self, other: object) -> bool:
            return self is other

    return NumberedNode


def _look_pose(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """A pose (OpenGL axes: looking down -z) at ``eye`` looking at ``target``, world up +Z."""
    f = np.asarray(target, float) - np.asarray(eye, float)
    f /= max(np.linalg.norm(f), 1e-12)
    up = np.array([0.0, 0.0, 1.0]) if abs(f[2]) < 0.99 else np.array([0.0, 1.0, 0.0])
    r = np.cross(f, up)
    r /= np.linalg.norm(r)
    u = np.cross(r, f)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = r, u, -f, eye
    return m
