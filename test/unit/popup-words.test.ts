import { expect } from '@esm-bundle/chai';
import type { PipelineStatus } from '../../src/page/pipeline';
import { internalSide, statusWords } from '../../src/popup/status-words';
import { DEFAULT_SETTINGS, type Settings } from '../../src/shared/settings';
import { combine, frameState } from '../../src/shared/tab-state';

const base: PipelineStatus = {
  filter: { kind: 'style', id: 'starry_night' }, state: 'ok', backend: 'tfjs-webgl @ 320px', framesIn: 90, framesOut: 88, dropped: 2,
  fallbackFrames: 0, fpsIn: 30, fpsOut: 29.6, filterMs: 20, filterMsP95: 25, lastError: null, width: 640, height: 360,
  placement: 'worker', frames: 'native',
};
const s = (patch: Partial<Settings>): Settings => ({ ...DEFAULT_SETTINGS, disabledSites: [], mode: 'style', ...patch });
const live = [{ label: 'cam', state: 'live' as const, outputs: 1 }];

describe('popup status in words', () => {
  it('says what is happening, not how', () => {
    expect(statusWords(s({}), 'a.example', base, true)).to.deep.equal({ text: 'Painting at 320 px, 30 fps', tone: 'ok' });
    expect(statusWords(s({ enabled: false }), 'a.example', base, true).text).to.equal('Brushcam is off');
    expect(statusWords(s({ disabledSites: ['a.example'] }), 'a.example', base, true).text).to.equal('This site is excluded');
    expect(statusWords(s({ mode: 'off' }), 'a.example', undefined, false).tone).to.equal('idle');
    expect(statusWords(s({}), 'a.example', undefined, false).text).to.match(/no camera is in use/);
    expect(statusWords(s({}), 'a.example', { ...base, state: 'loading', filterMs: null }, true).tone).to.equal('wait');
    const failed = statusWords(s({}), 'a.example', { ...base, state: 'failed', lastError: "style model 'x' not found" }, true);
    expect(failed.tone).to.equal('problem');
    expect(failed.text).to.contain("style model 'x' not found");
    const anime = { ...base, filter: { kind: 'anime', id: 'anime', presentation: 'face-swap' } as const, backend: 'tfjs-wasm + mediapipe @ 96px det2-tr6-s96 no-face' };
    expect(statusWords(s({ mode: 'anime' }), 'a.example', anime, true)).to.deep.equal({ text: 'Looking for your face', tone: 'wait' });
    expect(statusWords(s({ mode: 'anime' }), 'a.example', { ...anime, backend: 'tfjs-wasm + mediapipe @ 96px det2-tr6' }, true).text).to.equal('Drawing your avatar, 30 fps');
    // Without an internal size (the diagnostic shader), the frame's long side.
    expect(statusWords(s({}), 'a.example', { ...base, backend: 'webgl2' }, true).text).to.equal('Painting at 640 px, 30 fps');
    expect(internalSide('tfjs-wasm @ 224px tiny')).to.equal(224);
    expect(internalSide(null)).to.equal(null);
  });
});

describe('toolbar state', () => {
  it('a frame: off, paused without a live camera, on while painting, error when failed', () => {
    expect(frameState({ kind: 'off' }, [base], live)).to.equal('off');
    expect(frameState(base.filter!, [], [])).to.equal('paused');
    expect(frameState(base.filter!, [base], [{ ...live[0]!, state: 'ended' }])).to.equal('paused');
    expect(frameState(base.filter!, [base], live)).to.equal('on');
    expect(frameState(base.filter!, [{ ...base, state: 'loading' }], live)).to.equal('on');
    expect(frameState(base.filter!, [{ ...base, state: 'failed' }], live)).to.equal('error');
  });
  it('a tab: the most telling of its frames', () => {
    expect(combine([])).to.equal('off');
    expect(combine(['off', 'paused'])).to.equal('paused');
    expect(combine(['paused', 'on', 'off'])).to.equal('on');
    expect(combine(['on', 'error'])).to.equal('error');
  });
});
