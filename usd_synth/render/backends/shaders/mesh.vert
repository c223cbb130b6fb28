#version 330 core
// usd-synth's vertex shader for pyrender's colour pass. It differs from pyrender's in one line: the
// normal matrix is the model matrix itself, not transpose(inverse(M)) computed per vertex (a 4x4 inverse
// for every vertex is a large share of a CPU rasterizer's vertex work). That is exact here because the
// backend uploads every mesh in world space and places nodes with rigid poses only (identity, in
// practice); the normal is renormalized in the fragment shader. The colour attribute carries the vertex's
// instance id and is passed flat (not interpolated).

layout(location = 0) in vec3 position;
#ifdef NORMAL_LOC
layout(location = NORMAL_LOC) in vec3 normal;
#endif
#ifdef TEXCOORD_0_LOC
layout(location = TEXCOORD_0_LOC) in vec2 texcoord_0;
#endif
#ifdef COLOR_0_LOC
layout(location = COLOR_0_LOC) in vec4 color_0;
#endif
layout(location = INST_M_LOC) in mat4 inst_m;

uniform mat4 M;
uniform mat4 V;
uniform mat4 P;

out vec3 frag_position;
#ifdef NORMAL_LOC
out vec3 frag_normal;
#endif
#ifdef TEXCOORD_0_LOC
out vec2 uv_0;
#endif
#ifdef COLOR_0_LOC
flat out vec4 color_multiplier;  // usd-synth: the instance id in red (see mesh.frag)
#endif

void main()
{
    mat4 model = M * inst_m;
    vec4 world = model * vec4(position, 1.0);
    gl_Position = P * V * world;
    frag_position = world.xyz;
#ifdef NORMAL_LOC
    frag_normal = mat3(model) * normal;
#endif
#ifdef TEXCOORD_0_LOC
    uv_0 = texcoord_0;
#endif
#ifdef COLOR_0_LOC
    color_multiplier = color_0;
#endif
}
