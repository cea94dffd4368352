import type { ProbeCell, ProbeTable } from '../analysis/probe-table.js';
import type { ProbeRun } from '../analysis/probe.js';
import { MAX_PARAMETERS } from '../analysis/probe-regression.js';
import { ci, htmlEscape as h, mdCell, pct } from './format.js';

/**
 * The linear-probe view of a report (issue 15): per probe arm and benchmark, the probe's held-out
 * accuracy beside zero-shot matching and every other arm on the same images, per class and overall,
 * with one generated sentence. Kept apart from the markdown/HTML renderers, which call these functions.
 */

const EMBEDDINGS: Record<string, string> = {
  image_embeds: "the contrastive model's image_embeds",
  pooled: "the vision tower's pooled output before the projection",
  vlm2vec: "the VLM's VLM2Vec image-only embedding",
};

function cell(c: ProbeCell): string {
  return c.accuracy === null ? '–' : `${pct(c.accuracy)} ${ci(c.ci)}`;
}

/** The table's one sentence, generated from its numbers. */
export function probeSentence(t: ProbeTable, baseline: string): string {
  const probe = t.rows[0]!;
  const base = t.rows.find((r) => r.arm === baseline);
  const others = t.rows.filter((r) => r.kind === 'arm' && r.arm !== baseline && r.overall.accuracy !== null);
  const best = others.sort((a, b) => b.overall.accuracy! - a.overall.accuracy!)[0];
  const acc = probe.overall.accuracy ?? 0;
  const chance = 1 / t.classes.length;
  const low = probe.overall.ci?.low ?? acc;
  const high = probe.overall.ci?.high ?? acc;
  let head = `On ${t.benchmark}, the probe on ${EMBEDDINGS[t.embedding] ?? t.embedding} (\`${t.probeArm}\`) predicts the ${t.target} of ${probe.overall.n} held-out images with ${pct(acc)} % accuracy (95 % CI ${pct(low)}–${pct(high)}, chance ${pct(chance)} %)`;
  if (base?.overall.accuracy != null) head += ` where zero-shot \`${baseline}\` reaches ${pct(base.overall.accuracy)} %`;
  if (best) head += `${base ? ' and' : ' where'} the best other arm, \`${best.arm}\`, ${pct(best.overall.accuracy)} %`;
  let verdict: string;
  if (low <= chance) verdict = `the probe is not above chance on this run, so the embedding shows no linearly readable ${t.target} here`;
  else if (base?.overall.accuracy != null && low > base.overall.accuracy)
    verdict = `the ${t.target} is linearly readable from the embedding beyond what zero-shot matching with text reads out of it`;
  else if (base?.overall.accuracy != null && high < base.overall.accuracy)
    verdict = `zero-shot matching reads out more of the ${t.target} than a linear probe finds in this embedding`;
  else verdict = `the ${t.target} is linearly readable above chance, but the probe and zero-shot matching do not differ beyond the probe's CI`;
  return `${head}: ${verdict}.`;
}

function settingsLine(t: ProbeTable): string {
  const capped = t.components >= Math.floor(MAX_PARAMETERS / t.classes.length) - 1;
  const reduced =
    t.components >= t.dim
      ? `, ${t.dim} dimensions`
      : capped
        ? `, fitted on the top ${t.components} principal components of ${t.dim} (parameter cap)`
        : `, fitted in the span of each fold's training rows (${t.components} of ${t.dim} dimensions; the same fit)`;
  const excluded =
    t.excluded.length > 0 ? `; left out (fewer than ${t.minClassSamples} rows): ${t.excluded.map((e) => `${e.label} (${e.rows})`).join(', ')}` : '';
  const rule =
    t.armRule === 'option class'
      ? "other arms: right on an image when the option they score highest there has the image's class"
      : 'other arms: right when their item is right (the options share the class)';
  return `L2 multinomial logistic regression (λ = ${t.l2}), ${t.folds}-fold cross-validation grouped so that no group sits in two folds, seed ${t.seed}${reduced}${excluded}; ${rule}. 95 % CIs: percentile bootstrap over the fold groups.`;
}

export function probeMarkdown(tables: ProbeTable[], baseline: string): string[] {
  if (tables.length === 0) return [];
  const out = ['## Linear probe: what the frozen image embedding holds', ''];
  for (const t of tables) {
    out.push(`### ${t.benchmark}: ${t.probeArm} (${t.target})`, '');
    out.push(probeSentence(t, baseline), '');
    out.push(`| arm | overall % | ${t.classes.map((c) => `${mdCell(c)} %`).join(' | ')} |`);
    out.push(`|---|---|${t.classes.map(() => '---').join('|')}|`);
    for (const r of t.rows)
      out.push(`| ${r.kind === 'probe' ? `**${r.arm}** (probe)` : r.arm} | ${cell(r.overall)} (n ${r.overall.n}) | ${r.perClass.map(cell).join(' | ')} |`);
    out.push('', settingsLine(t), '');
  }
  return out;
}

export function probeHtml(tables: ProbeTable[], baseline: string): string[] {
  if (tables.length === 0) return [];
  const parts = ['<h2 id="probe">Linear probe: what the frozen image embedding holds</h2>'];
  for (const t of tables) {
    parts.push(`<h3>${h(t.benchmark)}: ${h(t.probeArm)} (${h(t.target)})</h3>`);
    parts.push(`<p>${h(probeSentence(t, baseline)).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`);
    const header = ['arm', 'overall %', ...t.classes.map((c) => `${h(c)} %`)];
    const rows = t.rows.map(
      (r) =>
        `<tr><td>${r.kind === 'probe' ? `<strong>${h(r.arm)}</strong> (probe)` : h(r.arm)}</td><td class="num">${h(cell(r.overall))} <span class="muted">(n ${r.overall.n})</span></td>${r.perClass
          .map((c) => `<td class="num">${h(cell(c))}</td>`)
          .join('')}</tr>`,
    );
    parts.push(`<table><thead><tr>${header.map((x) => `<th>${x}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`);
    parts.push(`<p class="muted">${h(settingsLine(t))}</p>`);
  }
  return parts;
}

/**
 * `probe.csv` (the tables, one line per arm × class and overall) and `probe-folds.csv` (every probed
 * image's fold and held-out prediction), as header and rows for csv-tables.ts to write.
 */
export function probeCsvTables(tables: ProbeTable[], runs: ProbeRun[]): Record<string, { header: string[]; rows: unknown[][] }> {
  if (tables.length === 0) return {};
  const lines: unknown[][] = [];
  for (const t of tables)
    for (const r of t.rows) {
      const at = (klass: string, c: ProbeCell) => [
        t.benchmark,
        t.probeArm,
        t.embedding,
        t.target,
        r.arm,
        r.kind,
        klass,
        c.n,
        c.accuracy,
        c.ci?.low,
        c.ci?.high,
      ];
      lines.push(at('overall', r.overall));
      r.perClass.forEach((c, i) => lines.push(at(t.classes[i]!, c)));
    }
  const folds: unknown[][] = [];
  for (const run of runs)
    for (const r of run.rows)
      folds.push([
        run.benchmark,
        run.arm,
        r.item,
        r.image,
        r.group,
        r.fold,
        r.label,
        r.predicted,
        run.classes.map((c, i) => `${c}=${r.probabilities[i]}`).join(';'),
      ]);
  return {
    'probe.csv': { header: ['benchmark', 'probe_arm', 'embedding', 'target', 'arm', 'kind', 'class', 'n', 'accuracy', 'ci_low', 'ci_high'], rows: lines },
    'probe-folds.csv': { header: ['benchmark', 'probe_arm', 'item', 'image', 'group', 'fold', 'label', 'predicted', 'probabilities'], rows: folds },
  };
}
