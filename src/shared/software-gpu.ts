/** Renderer names of CPU rasterisers that stand in for a GPU (SwiftShader, llvmpipe, WARP). */
export const SOFTWARE_RENDERER = /swiftshader|llvmpipe|software|basic render/i;

/** Whether a WebGL context runs on a CPU rasteriser. No tfjs here: the page-side filters use it too. */
export function isSoftwareGl(gl: WebGL2RenderingContext): boolean {
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return SOFTWARE_RENDERER.test(ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : String(gl.getParameter(gl.RENDERER)));
}
