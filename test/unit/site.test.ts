import { expect } from '@esm-bundle/chai';
import { siteOf, topSite } from '../../src/shared/site';

/** A Location-like object: href, and ancestorOrigins when the browser has them. */
const loc = (href: string, ancestors?: string[]): Location =>
  ({ href, ancestorOrigins: ancestors ? Object.assign([...ancestors], { contains: () => false, item: () => null }) : undefined }) as unknown as Location;

describe('site of a frame (per-site switch)', () => {
  it('a top frame is its own site; with ancestorOrigins a subframe is the outermost ancestor', async () => {
    expect(siteOf(loc('https://meet.example.com/abc'))).to.equal('meet.example.com');
    expect(siteOf(loc('https://call.vendor.net/x', ['https://inner.example.org', 'https://meet.example.com']))).to.equal('meet.example.com');
    let asked = 0;
    const ask = async (): Promise<unknown> => (asked++, 'other.site');
    expect(await topSite(loc('https://meet.example.com/abc'), true, ask)).to.equal('meet.example.com');
    expect(await topSite(loc('https://call.vendor.net/x', ['https://meet.example.com']), false, ask)).to.equal('meet.example.com');
    expect(asked, 'no round trip where the browser says').to.equal(0);
  });

  it('without ancestorOrigins (Firefox) a subframe asks for its top site, and falls back to its own when nobody answers', async () => {
    const iframe = loc('https://call.vendor.net/x');
    expect(await topSite(iframe, false, async () => 'meet.example.com')).to.equal('meet.example.com');
    expect(await topSite(iframe, false, async () => { throw new Error('no receiver'); })).to.equal('call.vendor.net');
    for (const bad of [null, 42, '', 'x'.repeat(300)]) {
      expect(await topSite(iframe, false, async () => bad), `answer ${String(bad).slice(0, 10)}`).to.equal('call.vendor.net');
    }
  });
});
