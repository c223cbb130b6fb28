#version 330 core
// usd-synth's fragment shader for pyrender's colour pass: the same inputs and uniforms as pyrender's
// mesh.frag (pyrender sets them by name), a cheaper model of light. On Mesa's llvmpipe the fragment
// shader is most of a frame, and pyrender's (GGX with Smith and Schlick terms per light, exact sRGB
// curves, a 3x3 filtered shadow lookup) cost about twice this one. What it computes per pixel:
//   albedo      base colour factor x texture, the texture decoded with gamma 2 (x * x) instead of the
//               exact sRGB curve;
//   diffuse     Lambert, (1 - metallic) x albedo x N.L x radiance, for every light;
//   specular    a normalized Blinn-Phong-like GGX lobe without Fresnel or geometry terms, F0 = 0.04
//               (dielectric) blended to the albedo by metallic, with the Kelemen visibility 1/(4 L.H^2);
//   shadows     the key light's shadow map, one bilinear compare in the sampler (4 texels);
//   ambient     albedo x ambient_light;
//   output      gamma 2 (sqrt) to display values; alpha is the instance id / 255 where the vertices
//               carry one (the colour attribute, see the backend's _build_scene), else the opacity.
// Only metallic-roughness materials are used by this backend.

struct SpotLight {
    vec3 color;
    float intensity;
    float range;
    vec3 position;
    vec3 direction;
    float light_angle_scale;
    float light_angle_offset;
#ifdef SPOT_LIGHT_SHADOWS
    sampler2DShadow shadow_map;
    mat4 light_matrix;
#endif
};

struct DirectionalLight {
    vec3 color;
    float intensity;
    vec3 direction;
#ifdef DIRECTIONAL_LIGHT_SHADOWS
    sampler2DShadow shadow_map;
    mat4 light_matrix;
#endif
};

struct PointLight {
    vec3 color;
    float intensity;
    float range;
    vec3 position;
};

struct Material {
    vec3 emissive_factor;
    vec4 base_color_factor;
    float metallic_factor;
    float roughness_factor;
#ifdef HAS_BASE_COLOR_TEX
    sampler2D base_color_texture;
#endif
};

uniform Material material;
uniform PointLight point_lights[MAX_POINT_LIGHTS];
uniform int n_point_lights;
uniform DirectionalLight directional_lights[MAX_DIRECTIONAL_LIGHTS];
uniform int n_directional_lights;
uniform SpotLight spot_lights[MAX_SPOT_LIGHTS];
uniform int n_spot_lights;
uniform vec3 cam_pos;
uniform vec3 ambient_light;

in vec3 frag_position;
#ifdef NORMAL_LOC
in vec3 frag_normal;
#endif
#ifdef TEXCOORD_0_LOC
in vec2 uv_0;
#endif
#ifdef COLOR_0_LOC
flat in vec4 color_multiplier;  // red: the instance id / 255 (not a colour)
#endif

out vec4 frag_color;

// Light counts as compile-time constants where the backend knows them (it defines N_*_LIGHTS per scene):
// llvmpipe then unrolls the loops and indexes the shadow samplers statically, which makes the shader
// about a third cheaper than loops bounded by uniforms. pyrender's own uniforms are the fallback.
#ifndef N_DIRECTIONAL_LIGHTS
#define N_DIRECTIONAL_LIGHTS n_directional_lights
#endif
#ifndef N_SPOT_LIGHTS
#define N_SPOT_LIGHTS n_spot_lights
#endif
#ifndef N_POINT_LIGHTS
#define N_POINT_LIGHTS n_point_lights
#endif

const float PI = 3.141592653589793;

// Diffuse plus specular reflected towards v from a light in direction l, per unit radiance and N.L.
vec3 reflected(vec3 n, vec3 v, vec3 l, vec3 c_diff, vec3 f0, float a2)
{
    vec3 h = normalize(l + v);
    float nh = max(dot(n, h), 0.0);
    float lh = max(dot(l, h), 0.05);
    float d = nh * nh * (a2 - 1.0) + 1.0;
    float spec = a2 / (4.0 * PI * d * d * lh * lh);
    return c_diff / PI + f0 * spec;
}

// 1 where the key light's shadow map says the fragment is hidden from it. The backend sets the map to
// compare in the sampler (GL_COMPARE_REF_TO_TEXTURE, GL_LEQUAL) with linear filtering: one lookup gives
// the bilinear blend of the four nearest texels' compares.
float shadowed(mat4 light_matrix, sampler2DShadow depths, float nl)
{
    vec4 p = light_matrix * vec4(frag_position, 1.0);
    vec3 c = p.xyz / p.w * 0.5 + 0.5;
    if (c.z > 1.0) {
        return 0.0;
    }
    float compare = c.z - max(0.001 * (1.0 - nl), 0.0001) / p.w;
    return 1.0 - texture(depths, vec3(c.xy, compare));
}

void main()
{
    vec4 base_color = material.base_color_factor;
#ifdef HAS_BASE_COLOR_TEX
    vec4 tex = texture(material.base_color_texture, uv_0);
    base_color *= vec4(tex.rgb * tex.rgb, tex.a);
#endif
    float metallic = clamp(material.metallic_factor, 0.0, 1.0);
    float roughness = clamp(material.roughness_factor, 0.05, 1.0);
    float a = roughness * roughness;
    float a2 = a * a;
    vec3 c_diff = base_color.rgb * (1.0 - metallic);
    vec3 f0 = mix(vec3(0.04), base_color.rgb, metallic);
#ifdef NORMAL_LOC
    vec3 n = normalize(frag_normal);
#else
    vec3 n = normalize(cam_pos - frag_position);
#endif
    vec3 v = normalize(cam_pos - frag_position);
    vec3 color = base_color.rgb * ambient_light;

    for (int i = 0; i < N_DIRECTIONAL_LIGHTS; i++) {
        vec3 l = -directional_lights[i].direction;
        float nl = max(dot(n, l), 0.0);
        vec3 res = nl * directional_lights[i].intensity * directional_lights[i].color
            * reflected(n, v, l, c_diff, f0, a2);
#ifdef DIRECTIONAL_LIGHT_SHADOWS
        res *= 1.0 - shadowed(directional_lights[i].light_matrix, directional_lights[i].shadow_map, nl);
#endif
        color += res;
    }
    for (int i = 0; i < N_SPOT_LIGHTS; i++) {
        vec3 to_light = spot_lights[i].position - frag_position;
        float dist2 = dot(to_light, to_light);
        vec3 l = to_light * inversesqrt(dist2);
        float cone = clamp(dot(spot_lights[i].direction, -l) * spot_lights[i].light_angle_scale
                           + spot_lights[i].light_angle_offset, 0.0, 1.0);
        float nl = max(dot(n, l), 0.0);
        vec3 res = nl * cone * cone * spot_lights[i].intensity / dist2 * spot_lights[i].color
            * reflected(n, v, l, c_diff, f0, a2);
#ifdef SPOT_LIGHT_SHADOWS
        res *= 1.0 - shadowed(spot_lights[i].light_matrix, spot_lights[i].shadow_map, nl);
#endif
        color += res;
    }
    for (int i = 0; i < N_POINT_LIGHTS; i++) {
        vec3 to_light = point_lights[i].position - frag_position;
        float dist2 = dot(to_light, to_light);
        vec3 l = to_light * inversesqrt(dist2);
        float nl = max(dot(n, l), 0.0);
        color += nl * point_lights[i].intensity / dist2 * point_lights[i].color
            * reflected(n, v, l, c_diff, f0, a2);
    }
    color += material.emissive_factor;
#ifdef COLOR_0_LOC
    frag_color = vec4(sqrt(clamp(color, 0.0, 1.0)), color_multiplier.r);
#else
    frag_color = vec4(sqrt(clamp(color, 0.0, 1.0)), base_color.a);
#endif
}
