import { ENGINE_CONNECT } from '../engine/protocol';

/**
 * The hidden extension frame (engine.html) that runs neural filters for this page, created on
 * first use. Extension frames load whatever the page's CSP says, and inside them WASM and
 * workers are allowed. Each `open()` is one filter session.
 */
export class EngineHost {
  private frame: Promise<Window> | null = null;
  private element: HTMLIFrameElement | null = null;

  constructor(private readonly assetBase: () => string | null, private readonly doc: Document = document) {}

  async open(): Promise<MessagePort> {
    const base = this.assetBase();
    if (!base) throw new Error('the extension has not said where its files are yet');
    const win = await (this.frame ??= this.createFrame(base));
    const ch = new MessageChannel();
    win.postMessage({ t: ENGINE_CONNECT }, new URL(base).origin, [ch.port2]);
    return ch.port1;
  }

  private createFrame(base: string): Promise<Window> {
    return new Promise((resolve, reject) => {
      const f = this.doc.createElement('iframe');
      f.src = `${base}engine.html`;
      f.setAttribute('aria-hidden', 'true');
      f.tabIndex = -1;
      f.style.cssText = 'display:none!important';
      const timer = setTimeout(() => {
        this.frame = null;
        f.remove();
        reject(new Error('the filter engine frame did not load'));
      }, 10000);
      f.addEventListener('load', () => {
        clearTimeout(timer);
        if (f.contentWindow) resolve(f.contentWindow);
        else reject(new Error('the filter engine frame has no window'));
      }, { once: true });
      (this.doc.documentElement ?? this.doc).appendChild(f);
      this.element = f;
    });
  }

  dispose(): void {
    this.element?.remove();
    this.element = null;
    this.frame = null;
  }
}
