declare module 'virtual:worker-source' {
  /** The bundled filter worker, as classic-script source text. */
  const source: string;
  export default source;
}
