// Summarises a `vitrine run` output folder: per SKU accepted/rejected, rejection reasons, and the
// time by step. node bench/run_report.mjs OUT WALL_SECONDS
import fs from 'node:fs';
import path from 'node:path';

const [out, wall] = process.argv.slice(2);
const reports = fs.readdirSync(out, { withFileTypes: true })
  .filter((d) => d.isDirectory() && fs.existsSync(path.join(out, d.name, 'report.json')))
  .map((d) => JSON.parse(fs.readFileSync(path.join(out, d.name, 'report.json'), 'utf8')));
const steps = {};
let accepted = 0, rejected = 0, withAccepted = 0, qa = 0, exp = 0, sku = 0;
const reasons = {};
for (const r of reports) {
  accepted += r.accepted; rejected += r.rejected;
  if (r.accepted > 0) withAccepted++;
  qa += r.qa_seconds; exp += r.export_seconds || 0; sku += r.seconds;
  for (const c of r.candidates) {
    for (const s of c.steps) {
      if (s.source !== 'computed') continue;
      steps[s.op] = (steps[s.op] || 0) + s.seconds;
    }
    for (const why of c.reasons) {
      const key = why.split(':')[0].slice(0, 60);
      reasons[key] = (reasons[key] || 0) + 1;
    }
  }
  console.log(`${r.sku.sku.padEnd(44)} ${String(r.accepted).padStart(2)} accepted ` +
              `${String(r.rejected).padStart(2)} rejected ${r.seconds.toFixed(1)} s`);
}
const n = reports.length;
console.log(`\nSKUs with at least one accepted candidate: ${withAccepted} of ${n}`);
console.log(`candidates: ${accepted} accepted, ${rejected} rejected ` +
            `(usable rate ${(100 * accepted / Math.max(1, accepted + rejected)).toFixed(0)}%)`);
console.log(`wall time per SKU: ${(Number(wall) / Math.max(1, n)).toFixed(2)} s ` +
            `(${n} SKUs, ${Number(wall).toFixed(0)} s)`);
console.log('time per SKU by step (CPU of one worker, summed over the SKU):');
for (const [op, s] of Object.entries(steps)) console.log(`  ${op.padEnd(12)} ${(s / n).toFixed(2)} s`);
console.log(`  ${'qa'.padEnd(12)} ${(qa / n).toFixed(2)} s`);
console.log(`  ${'export'.padEnd(12)} ${(exp / n).toFixed(2)} s`);
console.log(`  ${'whole SKU'.padEnd(12)} ${(sku / n).toFixed(2)} s`);
console.log('rejection reasons:');
for (const [k, v] of Object.entries(reasons).sort((a, b) => b[1] - a[1])) console.log(`  ${v} × ${k}`);
