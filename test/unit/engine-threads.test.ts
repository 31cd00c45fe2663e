import { expect } from '@esm-bundle/chai';
import { chooseThreads } from '../../src/engine/threads';
import { openRoute, routeTarget } from '../../src/engine/route';
import { serveRoute } from '../../src/engine/offscreen-host';

/** A probe whose frame takes `ms[n]` at n threads, and the thread counts it was switched to. */
function fakeBackend(ms: Record<number, number>) {
  let now = 1;
  const switches: number[] = [];
  return {
    switches,
    probe: async () => ms[now]!,
    set: (n: number) => {
      if (n !== now) switches.push(n);
      now = n;
    },
    get now() {
      return now;
    },
  };
}

describe('chooseThreads', () => {
  it('keeps the threads when they paint the frame clearly faster', async () => {
    const b = fakeBackend({ 1: 40, 2: 24 });
    b.set(2);
    b.switches.length = 0;
    const c = await chooseThreads(b.probe, b.set, 2);
    expect(c).to.deep.equal({ threads: 2, ms: { 1: 40, 2: 24 } });
    expect(b.now).to.equal(2);
  });

  it('drops to one thread when threads are slower (a busy machine) or only as fast', async () => {
    for (const ms of [{ 1: 12, 2: 112 }, { 1: 30, 2: 29 }]) {
      const b = fakeBackend(ms);
      b.set(2);
      const c = await chooseThreads(b.probe, b.set, 2);
      expect(c.threads).to.equal(1);
      expect(b.now).to.equal(1);
    }
  });

  it('measures in alternation, switching a bounded number of times', async () => {
    const order: number[] = [];
    const b = fakeBackend({ 1: 10, 2: 5 });
    b.set(2);
    b.switches.length = 0;
    await chooseThreads(async () => (order.push(b.now), b.probe()), b.set, 2, 3);
    expect(order).to.deep.equal([2, 1, 1, 2, 2, 1]);
    // each switch makes a thread pool in tfjs: 1, 2, 1, then back to the chosen 2
    expect(b.switches).to.deep.equal([1, 2, 1, 2]);
  });

  it('measures nothing where only one thread is wanted', async () => {
    let calls = 0;
    const c = await chooseThreads(async () => ++calls, () => {}, 1);
    expect(c).to.deep.equal({ threads: 1, ms: {} });
    expect(calls).to.equal(0);
  });
});

/** Something a route can hand session ports and hooks to, in place of an engine worker. */
class FakeWorker extends EventTarget {
  posted: { msg: unknown; ports: readonly MessagePort[] }[] = [];
  terminated = false;
  postMessage(msg: unknown, transfer: Transferable[] = []): void {
    this.posted.push({ msg, ports: transfer as MessagePort[] });
  }
  terminate(): void {
    this.terminated = true;
  }
  answer(data: unknown): void {
    this.dispatchEvent(new MessageEvent('message', { data }));
  }
}

const until = async (cond: () => boolean, what: string, ms = 3000): Promise<void> => {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('the route to the offscreen engine', () => {
  /** A service worker that hands each route port straight to an offscreen side. */
  const relayTo = (isolated: boolean, worker: FakeWorker) => ({
    postMessage: (msg: unknown, transfer: Transferable[]) => {
      expect(msg).to.deep.equal({ t: 'brushcam:engine-route' });
      serveRoute(transfer[0] as MessagePort, worker as unknown as Worker, isolated);
    },
  });

  it('is not tried without the offscreen permission (Firefox) or a service worker', async () => {
    let asked = false;
    expect(await openRoute({ permissions: ['storage'], serviceWorker: async () => ((asked = true), null) })).to.equal(null);
    expect(asked).to.equal(false);
    expect(await openRoute({ permissions: ['offscreen'], serviceWorker: async () => null })).to.equal(null);
    expect(await openRoute({ permissions: ['offscreen'], serviceWorker: () => Promise.reject(new Error('no registration')) })).to.equal(null);
  });

  it('falls back when the offscreen side is not isolated or never answers', async () => {
    expect(await openRoute({ permissions: ['offscreen'], serviceWorker: async () => relayTo(false, new FakeWorker()) })).to.equal(null);
    const silent = { postMessage: () => {} };
    const t0 = performance.now();
    expect(await openRoute({ permissions: ['offscreen'], serviceWorker: async () => silent }, 200)).to.equal(null);
    expect(performance.now() - t0).to.be.at.least(190);
  });

  it('carries session ports and test hooks to the offscreen worker, and the answers back', async () => {
    const worker = new FakeWorker();
    const route = await openRoute({ permissions: ['offscreen'], serviceWorker: async () => relayTo(true, worker) });
    expect(route).to.not.equal(null);
    const answers: unknown[] = [];
    const target = routeTarget(route!, (m) => answers.push(m), () => {});
    expect(target.where).to.equal('offscreen');
    const session = new MessageChannel();
    target.session(session.port2);
    target.hook({ t: 'memory' });
    await until(() => worker.posted.length === 2, 'the session and the hook');
    expect(worker.posted[0]!.msg).to.deep.equal({ t: 'session' });
    expect(worker.posted[0]!.ports).to.have.length(1);
    expect(worker.posted[1]!.msg).to.deep.equal({ t: 'memory' });
    // the session port reaches the worker still entangled with the page's end
    const got = new Promise((r) => (worker.posted[0]!.ports[0]!.onmessage = (e) => r(e.data)));
    session.port1.postMessage({ t: 'dispose' });
    expect(await got).to.deep.equal({ t: 'dispose' });
    worker.answer({ t: 'memory', numTensors: 7 });
    await until(() => answers.length === 1, 'the hook answer');
    expect(answers[0]).to.deep.equal({ t: 'memory', numTensors: 7 });
  });

  it('ends the offscreen worker when the frame says it is going away, not before', async () => {
    const worker = new FakeWorker();
    const route = await openRoute({ permissions: ['offscreen'], serviceWorker: async () => relayTo(true, worker) });
    const target = routeTarget(route!, () => {}, () => {});
    target.hook({ t: 'memory' });
    await until(() => worker.posted.length === 1, 'the hook');
    expect(worker.terminated).to.equal(false);
    target.end();
    await until(() => worker.terminated, 'the worker to end');
  });
});
