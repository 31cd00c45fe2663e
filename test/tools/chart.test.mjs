// The bench charts (bench/chart.mjs), drawn in Node: bar lengths follow the values, text is
// escaped, lines follow the points.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barChart, esc, lineChart } from '../../bench/chart.mjs';

const widths = (svg) => [...svg.matchAll(/<rect x="\d+" y="[\d.]+" width="([\d.]+)"/g)].map((m) => +m[1]);

describe('bench charts', () => {
  it('draws each bar at value/max of the bar width, at least 1 px and never past it', () => {
    const svg = barChart({
      title: 'ratio & ms',
      barWidth: 200,
      rows: [
        { label: 'a', bars: [{ value: 0.5, max: 1, color: '#00f' }, { value: 30, max: 60, color: '#f80' }] },
        { label: 'b <wasm>', bars: [{ value: 2, max: 1, color: '#00f' }, { value: 0, max: 60, color: '#f80' }], note: '2.00' },
      ],
    });
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.deepEqual(widths(svg), [100, 100, 200, 1]);
    assert.match(svg, />ratio &amp; ms</);
    assert.match(svg, />b &lt;wasm&gt;</);
    assert.ok(!svg.includes('<wasm>'));
  });

  it('draws each series as a line scaled to its own maximum, with minute ticks and events', () => {
    const svg = lineChart({
      title: 'soak', x: 't', width: 1080, height: 470,
      points: [{ t: 0, fps: 0 }, { t: 60, fps: 15 }, { t: 120, fps: 30 }],
      series: [{ key: 'fps', name: 'fps', color: '#00f', max: 30 }],
      events: [{ at: 60, label: 'hidden' }],
    });
    // plot 60..1060 wide, 30..430 high: (0,0) → (60,430), (60,15) → (560,230), (120,30) → (1060,30)
    assert.match(svg, /<polyline fill="none" stroke="#00f" points="60.0,430.0 560.0,230.0 1060.0,30.0"\/>/);
    assert.match(svg, />0 min<.*>1 min<.*>2 min</s);
    assert.match(svg, />hidden</);
    assert.match(svg, />fps \(max 30\)</);
  });

  it('escapes every character SVG text cannot hold', () => {
    assert.equal(esc('a<b>&"c"'), 'a&lt;b&gt;&amp;&quot;c&quot;');
  });
});
