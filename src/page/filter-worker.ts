/**
 * The filter worker: one per pipeline, started from a blob URL by the page script when the
 * page's CSP allows workers. It receives the camera's frame stream and the sink's stream
 * (transferred, so VideoFrames never cross threads by copy) and runs the pump.
 */
import { createFilter } from './filters/registry';
import { errorText, FramePump } from './frames/pump';
import type { FromWorker, ToWorker } from './worker-messages';
import { parseFilterSpec } from '../shared/settings';

const scope = self as unknown as {
  postMessage(msg: unknown, transfer: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
};
let pump: FramePump | null = null;
const enginePorts = new Map<number, { resolve: (p: MessagePort) => void; reject: (e: Error) => void }>();
let nextPortId = 1;

/** Engine sessions come from the page (only a document can host the engine frame). */
function openEngine(): Promise<MessagePort> {
  const id = nextPortId++;
  return new Promise((resolve, reject) => {
    enginePorts.set(id, { resolve, reject });
    post({ type: 'engine-port?', id });
  });
}

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(msg, transfer);
}

scope.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  try {
    switch (msg.type) {
      case 'start': {
        if (pump) throw new Error('filter worker: started twice');
        pump = new FramePump({
          readable: msg.readable,
          writable: msg.writable,
          createFilter,
          env: { assetBase: msg.assetBase, openEngine },
          onStatus: (status) => post({ type: 'status', status }),
          onPreview: (bitmap) => post({ type: 'preview', bitmap }, [bitmap]),
        });
        const spec = parseFilterSpec(msg.filter);
        if (spec) pump.setFilter(spec);
        void pump.done.then(() => post({ type: 'stopped' }));
        break;
      }
      case 'filter': {
        const spec = parseFilterSpec(msg.filter);
        if (spec) pump?.setFilter(spec);
        break;
      }
      case 'preview':
        pump?.setPreview(msg.everyMs);
        break;
      case 'engine-port': {
        const waiter = enginePorts.get(msg.id);
        enginePorts.delete(msg.id);
        if (msg.port) waiter?.resolve(msg.port);
        else waiter?.reject(new Error(msg.error ?? 'no filter engine'));
        break;
      }
      case 'stop':
        if (pump) void pump.stop();
        else post({ type: 'stopped' });
        break;
    }
  } catch (err) {
    console.error('brushcam worker:', errorText(err));
  }
};

post({ type: 'ready' });
