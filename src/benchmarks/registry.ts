import type { BenchmarkSpec } from '../config/experiment.js';
import type { BenchmarkFamily } from './benchmark-family.js';
import { whatsupControlledFamily } from './whatsup/family.js';

const FAMILIES: Record<BenchmarkSpec['format'], BenchmarkFamily> = {
  'whatsup-controlled': whatsupControlledFamily,
};

export function benchmarkFamily(format: BenchmarkSpec['format']): BenchmarkFamily {
  return FAMILIES[format];
}
