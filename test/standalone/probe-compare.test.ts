import { describe, expect, it } from 'vitest';
import type { ProbeTable } from '../../src/analysis/probe-table.js';
import { PROBE_COMPARE } from '../../src/report/compare-views.js';
import type { ReportModel } from '../../src/report/report-model.js';

function table(benchmark: string, probeRight: number, clipRight: number): ProbeTable {
  const cell = (right: number) => ({ n: 24, accuracy: right / 24, ci: null });
  return {
    benchmark,
    probeArm: 'probe',
    target: 'preposition',
    embedding: 'image_embeds',
    folds: 5,
    l2: 0.01,
    seed: 0,
    dim: 8,
    components: 8,
    classes: ['left_of', 'right_of'],
    excluded: [],
    minClassSamples: 0,
    armRule: 'option class',
    rows: [
      { arm: 'probe', kind: 'probe', overall: cell(probeRight), perClass: [] },
      { arm: 'clip', kind: 'arm', overall: cell(clipRight), perClass: [] },
    ],
  };
}

const model = (tables: ProbeTable[]): ReportModel => ({ probe: { tables, runs: [], baseline: 'clip' } }) as unknown as ReportModel;

describe('report --compare: the probe view', () => {
  it('pairs the probe tables both runs have and gives B − A per row', () => {
    const section = PROBE_COMPARE.build(model([table('whatsup', 12, 6), table('only-a', 1, 1)]), model([table('whatsup', 18, 6)]));
    expect(section?.id).toBe('probe');
    expect(section?.tables[0]?.rows).toEqual([
      ['whatsup', 'probe (image_embeds, preposition)', 'probe (probe)', '50.0', '75.0', '+25.0', '24', '24'],
      ['whatsup', 'probe (image_embeds, preposition)', 'clip', '25.0', '25.0', '+0.0', '24', '24'],
    ]);
    expect(section?.csv.rows[0]).toEqual(['whatsup', 'probe', 'image_embeds', 'preposition', 'probe', 'probe', 0.5, 24, 0.75, 24]);
  });

  it('is absent when the runs share no probe table', () => {
    expect(PROBE_COMPARE.build(model([table('a', 1, 1)]), model([table('b', 1, 1)]))).toBeNull();
  });
});
