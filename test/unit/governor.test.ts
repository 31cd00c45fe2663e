import { expect } from '@esm-bundle/chai';
import { ResolutionGovernor } from '../../src/engine/governor';

/** Cost model: ms ∝ pixels (side²) at `msAt640` for 640. */
const cost = (side: number, msAt640: number) => msAt640 * (side / 640) ** 2;

describe('ResolutionGovernor', () => {
  it('steps down to a resolution that fits the budget and stays there', () => {
    const g = new ResolutionGovernor(33);
    const sides: number[] = [];
    for (let i = 0; i < 60; i++) {
      g.record(cost(g.maxSide, 120));
      sides.push(g.maxSide);
    }
    expect(cost(g.maxSide, 120)).to.be.at.most(33);
    // Settled: the last 30 frames never changed tier (no oscillation).
    expect(new Set(sides.slice(30)).size).to.equal(1);
    expect(g.maxSide).to.be.at.least(256); // not lower than needed
  });

  it('climbs back when there is room, with hysteresis', () => {
    const g = new ResolutionGovernor(33);
    for (let i = 0; i < 20; i++) g.record(500); // a slow spell
    expect(g.maxSide, 'the bottom tier').to.equal(g.sides.at(-1));
    const seen: number[] = [];
    const changes0 = g.changes;
    for (let i = 0; i < 900; i++) {
      g.record(cost(g.maxSide, 40)); // the machine is fast again: 640 costs 40 ms
      seen.push(g.maxSide);
    }
    const last = seen.slice(-100);
    expect(new Set(last).size, 'settled').to.equal(1);
    expect(cost(last[0]!, 40)).to.be.at.most(1.2 * 33);
    expect(last[0]).to.be.at.least(448);
    // One step at a time, each after a held spell of room: no more changes than steps.
    expect(g.changes - changes0).to.be.at.most(g.sides.indexOf(96) - g.sides.indexOf(last[0]!));
  });

  it('does not bounce across a step bigger than its thresholds (a model tier 2.5x cheaper)', () => {
    // Ladder: sizes down to 96, then a tier that costs what the full model would at ~61 px.
    const sides = [640, 448, 320, 224, 160, 128, 96, 61];
    const g = new ResolutionGovernor(33, sides);
    // The full model at 96 px costs 36 ms (just over budget); the tier costs 0.4x of that.
    const ms = (i: number) => (i === sides.length - 1 ? 0.4 * 36 : 36 * (sides[i]! / 96) ** 2);
    const seen: number[] = [];
    for (let i = 0; i < 120; i++) {
      g.record(ms(g.tier));
      seen.push(g.tier);
    }
    expect(seen.at(-1), 'on the tier').to.equal(sides.length - 1);
    expect(new Set(seen.slice(40)).size, `settled (tiers ${seen.slice(40).join(',')})`).to.equal(1);
    // When the machine frees up (full at 96 px: 20 ms), it leaves the tier again.
    for (let i = 0; i < 120; i++) g.record(g.tier === sides.length - 1 ? 0.4 * 20 : 20 * (sides[g.tier]! / 96) ** 2);
    expect(g.tier).to.be.below(sides.length - 1);
  });

  it('holds a fixed size when told to', () => {
    const g = new ResolutionGovernor(Infinity, [320]);
    for (let i = 0; i < 10; i++) g.record(1e6);
    expect(g.maxSide).to.equal(320);
  });

  it('calibrates from one measured frame: the largest tier predicted to fit, else the smallest', () => {
    const g = new ResolutionGovernor(33);
    g.calibrate(cost(160, 120), 160); // 640 would cost 120 ms: 320 costs 30 ms
    expect(g.maxSide).to.equal(320);
    g.calibrate(cost(160, 20), 160); // a fast device starts at the top
    expect(g.maxSide).to.equal(640);
    g.calibrate(1900, 160); // a software GPU: nothing fits, start at the bottom
    expect(g.maxSide).to.equal(g.sides.at(-1));
    // From there it still climbs when frames turn out cheap.
    for (let i = 0; i < 900; i++) g.record(cost(g.maxSide, 40));
    expect(g.maxSide).to.be.at.least(448);
  });

  it('ignores single slow frames (another process had the core)', () => {
    const g = new ResolutionGovernor(33);
    g.calibrate(cost(320, 120), 320);
    const start = g.maxSide;
    for (let i = 0; i < 300; i++) g.record(i % 10 === 5 ? 160 : cost(g.maxSide, 120));
    expect(g.maxSide).to.equal(start);
    expect(g.changes).to.equal(0);
  });

  it('changes rarely on a noisy machine: a short quiet spell moves nothing, a minute of noise a few changes', () => {
    const g = new ResolutionGovernor(33);
    g.calibrate(cost(320, 120), 320);
    const start = g.maxSide;
    // 20 frames with lots of room, then back to normal: not long enough to move up.
    for (let i = 0; i < 20; i++) g.record(1);
    expect(g.maxSide).to.equal(start);
    // A minute at 30 fps of costs that swing ±40 % around a level that fits (deterministic noise).
    let seed = 1;
    const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 0.8 + 0.6;
    const before = g.changes;
    for (let i = 0; i < 1800; i++) g.record(cost(g.maxSide, 100) * noise());
    expect(g.changes - before, 'changes in a minute').to.be.at.most(6);
  });
});
