import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * Charts: vega-lite specs compiled to vega and rendered to SVG headless (renderer 'none': no
 * browser, no canvas). The SVG strings go inline into report.html.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface MetricBar {
  arm: string;
  metric: string;
  value: number;
  low: number | null;
  high: number | null;
}

/** Grouped bars of each headline metric per arm (percent), with 95% CI whiskers. */
export function accuracySpec(title: string, bars: MetricBar[]): TopLevelSpec {
  const values = bars.map((b) => ({ ...b, value: 100 * b.value, low: b.low === null ? null : 100 * b.low, high: b.high === null ? null : 100 * b.high }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: { step: 22 },
    height: 180,
    data: { values },
    encoding: {
      x: { field: 'metric', type: 'nominal', title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'arm', type: 'nominal' },
      color: { field: 'arm', type: 'nominal', title: 'arm' },
    },
    layer: [
      { mark: 'bar', encoding: { y: { field: 'value', type: 'quantitative', title: 'accuracy (%)', scale: { domain: [0, 100] } } } },
      {
        mark: { type: 'rule', color: 'black' },
        transform: [{ filter: 'datum.low != null' }],
        encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
      },
    ],
  } as TopLevelSpec;
}

export interface DifferencePoint {
  label: string;
  difference: number;
  low: number | null;
  high: number | null;
}

/** A forest plot of metric differences (percentage points) with 95% CIs. */
export function differenceSpec(title: string, points: DifferencePoint[]): TopLevelSpec {
  const values = points.map((p) => ({
    ...p,
    difference: 100 * p.difference,
    low: p.low === null ? null : 100 * p.low,
    high: p.high === null ? null : 100 * p.high,
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 360,
    height: { step: 18 },
    data: { values },
    encoding: { y: { field: 'label', type: 'nominal', title: null, sort: null } },
    layer: [
      {
        mark: { type: 'rule', strokeDash: [3, 3], color: 'gray' },
        data: { values: [{ zero: 0 }] },
        encoding: { x: { field: 'zero', type: 'quantitative' }, y: null },
      },
      {
        mark: 'rule',
        transform: [{ filter: 'datum.low != null' }],
        encoding: { x: { field: 'low', type: 'quantitative', title: 'difference (percentage points)' }, x2: { field: 'high' } },
      },
      { mark: { type: 'point', filled: true, color: 'black' }, encoding: { x: { field: 'difference', type: 'quantitative' } } },
    ],
  } as TopLevelSpec;
}

export interface BinPoint {
  arm: string;
  bin: string;
  accuracy: number;
  pairs: number;
}

/** Pair accuracy by CLIP image–image cosine bin, one line per arm (the erroneous-agreement view). */
export function cosineBinSpec(title: string, points: BinPoint[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 360,
    height: 180,
    data: { values: points.map((p) => ({ ...p, accuracy: 100 * p.accuracy })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'bin', type: 'ordinal', title: 'CLIP image–image cosine of the pair', sort: null },
      y: { field: 'accuracy', type: 'quantitative', title: 'pair accuracy (%)', scale: { domain: [0, 100] } },
      color: { field: 'arm', type: 'nominal' },
      tooltip: [{ field: 'pairs', type: 'quantitative' }],
    },
  } as TopLevelSpec;
}
