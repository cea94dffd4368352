/**
 * Published numbers shown beside ours, each with its source and whether it was verified in a
 * primary source (the paper, table or repository named in its `source`). Unverified numbers are always marked so.
 */
export interface ReferenceNumber {
  /** Benchmark formats (config `format`) the number belongs to. */
  formats: string[];
  /** Subset names it applies to (any when absent). */
  subsets?: string[];
  model: string;
  metric: string;
  /** Percent. */
  value: number;
  source: string;
  verified: boolean;
  note?: string;
}

const LI_V3_FIG1 = 'Li, Koh & Du 2025 (arXiv 2411.05195 v3) Fig. 1, lst627/CLIP-Embeds@1c73a50:figs/overview.png';
const LLM2CLIP_FILE = "lst627/CLIP-Embeds@5f65a81:open_clip-main/src/evaluation_results_llm2clip.txt (authors' repo output, not a paper table)";
const MMVP_FIG = 'Tong et al. 2024 (MMVP), tsb0601/MMVP@7635005:imgs/mllm_results.png';
const MMVP_VLM_FIG = 'Tong et al. 2024 (MMVP-VLM), tsb0601/MMVP@7635005:imgs/vlm_results.png';

const SUGARCREPE_TABLE =
  'Hsieh et al. 2023 (SugarCrepe) results table, RAIVNLab/sugar-crepe@0047054b243992f0fad63d6f64f7544862daf846:assets/sugarcrepe_eval.png';

/** SugarCrepe per-subset accuracy (%), read from the authors' results table (`[subset, ViT-B-32, ViT-L-14, Human]`). */
const SUGARCREPE_ROWS: Array<[string, number, number, number]> = [
  ['replace_obj', 90.92, 94.07, 100],
  ['replace_att', 80.08, 79.19, 99],
  ['replace_rel', 69.2, 65.15, 97],
  ['swap_obj', 61.38, 60.16, 99],
  ['swap_att', 63.96, 62.31, 100],
  ['add_obj', 77.21, 78.32, 99],
  ['add_att', 68.79, 71.53, 99],
];

const SUGARCREPE_REFERENCES: ReferenceNumber[] = SUGARCREPE_ROWS.flatMap(([subset, b32, l14, human]) =>
  (
    [
      ['OpenAI CLIP ViT-B-32 (open_clip)', b32],
      ['OpenAI CLIP ViT-L-14 (224 px, open_clip)', l14],
      ['Human', human],
    ] as Array<[string, number]>
  ).map(([model, value]) => ({
    formats: ['sugarcrepe'],
    subsets: [subset, 'all'],
    model,
    metric: `accuracy ${subset}`,
    value,
    source: SUGARCREPE_TABLE,
    verified: true,
  })),
);

const WINOGROUND_TABLE = 'Thrush et al. 2022 (Winoground, arXiv 2204.03162) Table 3, as widely quoted; the paper was not read here';

export const REFERENCE_NUMBERS: ReferenceNumber[] = [
  ...SUGARCREPE_REFERENCES,
  { formats: ['winoground'], model: 'CLIP ViT-B/32', metric: 'text', value: 30.75, source: WINOGROUND_TABLE, verified: false },
  { formats: ['winoground'], model: 'CLIP ViT-B/32', metric: 'image', value: 10.5, source: WINOGROUND_TABLE, verified: false },
  { formats: ['winoground'], model: 'CLIP ViT-B/32', metric: 'group', value: 8.0, source: WINOGROUND_TABLE, verified: false },
  { formats: ['winoground'], model: 'Human', metric: 'text', value: 89.5, source: WINOGROUND_TABLE, verified: false },
  { formats: ['winoground'], model: 'Human', metric: 'image', value: 88.5, source: WINOGROUND_TABLE, verified: false },
  { formats: ['winoground'], model: 'Human', metric: 'group', value: 85.5, source: WINOGROUND_TABLE, verified: false },
  {
    formats: ['whatsup-controlled', 'whatsup-qa', 'mmvp', 'mmvp-vlm'],
    model: 'CLIP ViT-L/14-336 (avg. of 6 benchmarks)',
    metric: 'individual',
    value: 55.6,
    source: LI_V3_FIG1,
    verified: true,
    note: "average over What'sUp, SugarCrepe, Winoground, NaturalBench, SeeTRUE, MMVP",
  },
  {
    formats: ['whatsup-controlled', 'whatsup-qa', 'mmvp', 'mmvp-vlm'],
    model: 'LLaVA-1.5-7B VQAScore (avg. of 6 benchmarks)',
    metric: 'individual',
    value: 88.0,
    source: LI_V3_FIG1,
    verified: true,
    note: "average over What'sUp, SugarCrepe, Winoground, NaturalBench, SeeTRUE, MMVP",
  },
  {
    formats: ['whatsup-controlled', 'whatsup-qa', 'mmvp', 'mmvp-vlm'],
    model: 'CLIP ViT-L/14-336 (avg. of 6 benchmarks)',
    metric: 'pair',
    value: 19.3,
    source: LI_V3_FIG1,
    verified: true,
  },
  {
    formats: ['whatsup-controlled', 'whatsup-qa', 'mmvp', 'mmvp-vlm'],
    model: 'LLaVA-1.5-7B VQAScore (avg. of 6 benchmarks)',
    metric: 'pair',
    value: 59.2,
    source: LI_V3_FIG1,
    verified: true,
  },
  {
    formats: ['whatsup-controlled'],
    subsets: ['controlled_a'],
    model: 'CLIP ViT-L/14-336',
    metric: 'left/right pair',
    value: 1.9,
    source: 'papernotes summary of 2411.05195 v3',
    verified: false,
  },
  {
    formats: ['whatsup-controlled'],
    subsets: ['controlled_a'],
    model: 'LLaVA-1.5-7B',
    metric: 'left/right pair',
    value: 93.2,
    source: 'papernotes summary of 2411.05195 v3',
    verified: false,
  },
  {
    formats: ['whatsup-controlled'],
    subsets: ['controlled_a'],
    model: 'LLaVA-1.5-7B',
    metric: 'left/right pair',
    value: 98.1,
    source: 'AI review of the 2411.05195 v1 OpenReview submission (Table 1)',
    verified: false,
  },
  {
    formats: ['whatsup-controlled'],
    subsets: ['controlled_b'],
    model: 'CLIP ViT-L/14-336',
    metric: 'left/right pair',
    value: 10.8,
    source: 'older notes (benchmarks-and-methods.md §1.8)',
    verified: false,
  },
  {
    formats: ['whatsup-controlled'],
    subsets: ['controlled_b'],
    model: 'LLaVA-1.5-7B',
    metric: 'left/right pair',
    value: 97.1,
    source: 'older notes (benchmarks-and-methods.md §1.8)',
    verified: false,
  },
  {
    formats: ['whatsup-controlled'],
    subsets: ['controlled_a'],
    model: 'LLM2CLIP-Openai-L-14-336 (2-way, clip_embeds)',
    metric: 'individual',
    value: 54.13,
    source: LLM2CLIP_FILE,
    verified: true,
  },
  {
    formats: ['whatsup-controlled'],
    subsets: ['controlled_a'],
    model: 'LLM2CLIP-Openai-L-14-336 (2-way, clip_embeds)',
    metric: 'pair',
    value: 9.22,
    source: LLM2CLIP_FILE,
    verified: true,
  },
  {
    formats: ['whatsup-controlled'],
    subsets: ['controlled_a'],
    model: 'LLM2CLIP-Openai-L-14-336 (2-way, clip_embeds)',
    metric: 'set',
    value: 0.97,
    source: LLM2CLIP_FILE,
    verified: true,
  },
  {
    formats: ['whatsup-controlled'],
    subsets: ['controlled_b'],
    model: 'LLM2CLIP-Openai-L-14-336 (2-way, clip_embeds)',
    metric: 'individual',
    value: 52.21,
    source: LLM2CLIP_FILE,
    verified: true,
  },
  {
    formats: ['whatsup-controlled'],
    subsets: ['controlled_b'],
    model: 'LLM2CLIP-Openai-L-14-336 (2-way, clip_embeds)',
    metric: 'pair',
    value: 7.84,
    source: LLM2CLIP_FILE,
    verified: true,
  },
  { formats: ['mmvp'], model: 'LLaVA-1.5 (7B or 13B: the figure does not say)', metric: 'pair', value: 24.7, source: MMVP_FIG, verified: true },
  { formats: ['mmvp'], model: 'GPT-4V', metric: 'pair', value: 38.7, source: MMVP_FIG, verified: true },
  { formats: ['mmvp'], model: 'Random guess', metric: 'pair', value: 25.0, source: MMVP_FIG, verified: true },
  {
    formats: ['mmvp'],
    model: 'LLaVA-1.5-7B + M3ID',
    metric: 'pair',
    value: 31.3,
    source: 'AI review of 2411.05195 v1 (Table 6); the abstract says only "+6%"',
    verified: false,
  },
  {
    formats: ['mmvp'],
    model: 'LLaVA-1.5, both images in one prompt (relaxed)',
    metric: 'pair',
    value: 73.3,
    source: 'AI review of 2411.05195 v1 (Table 7)',
    verified: false,
  },
  { formats: ['mmvp-vlm'], model: 'OpenAI CLIP ViT-L/14 (336 px)', metric: 'pair', value: 20.0, source: MMVP_VLM_FIG, verified: true },
  { formats: ['mmvp-vlm'], model: 'OpenAI CLIP ViT-L/14 (224 px)', metric: 'pair', value: 19.3, source: MMVP_VLM_FIG, verified: true },
  {
    formats: ['aro-vg-relation'],
    model: 'CLIP ViT-B/32',
    metric: 'macro',
    value: 59,
    source: 'third-party note reading the ARO paper (ar5iv)',
    verified: false,
  },
  {
    formats: ['aro-vg-attribution'],
    model: 'CLIP ViT-B/32',
    metric: 'macro',
    value: 62,
    source: 'third-party note reading the ARO paper (ar5iv)',
    verified: false,
  },
  {
    formats: ['aro-order'],
    subsets: ['coco_order'],
    model: 'CLIP ViT-B/32',
    metric: 'precision@1',
    value: 46,
    source: 'third-party note reading the ARO paper (ar5iv)',
    verified: false,
  },
  {
    formats: ['aro-order'],
    subsets: ['flickr30k_order'],
    model: 'CLIP ViT-B/32',
    metric: 'precision@1',
    value: 59,
    source: 'third-party note reading the ARO paper (ar5iv)',
    verified: false,
  },
];

export const LABEL_ERRATA_NOTE =
  'Known label errata: MMVP has two pairs with wrong ground truth (elephant tusks, indices 99/100; standing/sitting, 279/280) and a disputed index base ' +
  "(tsb0601/MMVP issues 14 and 30, lmms-eval issue 1018, fixed in lmms-eval's dataset); perceive applies its versioned errata table by default and reports the uncorrected figure beside it. " +
  "In ARO VG-Relation/VG-Attribution the second caption is correct; in What'sUp and the Order sets the first.";

export function referencesFor(format: string, subset: string): ReferenceNumber[] {
  return REFERENCE_NUMBERS.filter((r) => r.formats.includes(format) && (!r.subsets || r.subsets.includes(subset)));
}
