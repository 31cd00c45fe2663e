import { ENGINE_CONNECT } from '../shared/engine-protocol';

/**
 * The hidden extension frame (engine.html) that runs neural filters for this page, created on
 * first use by the isolated content script. Extension frames load whatever the page's CSP says,
 * and inside them WASM and workers are allowed. Each `open()` is one filter session.
 *
 * Pages can neither spot nor use it: the frame's URL is the extension's per-session dynamic URL
 * where the browser has one (`use_dynamic_url`) and sits in a closed shadow root (the page sees
 * a hidden element and a cross-origin child frame, not its address); the frame's address carries
 * a secret made here, and the engine serves only sessions that bring it. Only this script and
 * the engine know it: the MAIN world (the page's own JavaScript world) gets session ports, never
 * the secret.
 */
export class EngineHost {
  private frame: Promise<Window> | null = null;
  private element: HTMLElement | null = null;
  private readonly secret = randomSecret();

  /** `engineUrl`: runtime.getURL('engine.html') (the dynamic URL where the browser has them). */
  constructor(private readonly engineUrl: string, private readonly doc: Document = document) {}

  async open(): Promise<MessagePort> {
    const win = await (this.frame ??= this.createFrame());
    const ch = new MessageChannel();
    // '*': the window is the frame this script made, out of the page's reach in a closed shadow
    // root; the secret is what the engine checks.
    win.postMessage({ t: ENGINE_CONNECT, secret: this.secret }, '*', [ch.port2]);
    return ch.port1;
  }

  private createFrame(): Promise<Window> {
    return new Promise((resolve, reject) => {
      const f = this.doc.createElement('iframe');
      f.src = `${this.engineUrl}#${this.secret}`;
      f.tabIndex = -1;
      const host = this.doc.createElement('div');
      host.setAttribute('aria-hidden', 'true');
      host.style.cssText = 'display:none!important';
      host.attachShadow({ mode: 'closed' }).appendChild(f);
      const timer = setTimeout(() => {
        this.frame = null;
        host.remove();
        reject(new Error('the filter engine frame did not load'));
      }, 10000);
      f.addEventListener('load', () => {
        clearTimeout(timer);
        if (f.contentWindow) resolve(f.contentWindow);
        else reject(new Error('the filter engine frame has no window'));
      }, { once: true });
      (this.doc.documentElement ?? this.doc).appendChild(host);
      this.element = host;
    });
  }

  dispose(): void {
    this.element?.remove();
    this.element = null;
    this.frame = null;
  }
}

/** 128 random bits, hex. */
function randomSecret(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
