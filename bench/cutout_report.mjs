// Gathers what bench/cutout.sh measured (bench/out/logs, bench/out/scores) into one table on
// stdout and bench/out/cutout_report.json.
//
//   node cutout_report.mjs OUTDIR [--limit N] [--vitrine-skip REASON]
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const kMemoryTargetMb = 1536;  // vitrine's peak RSS on a 24 MP photo (1.5 GB)
const kSets = { composites: "composites", libcom: "libcom-soft" };

const out = process.argv[2];
const flag = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : "";
};
const limit = parseInt(flag("--limit") || "0", 10);
const vitrineSkip = flag("--vitrine-skip");
const logs = path.join(out, "logs");
const readJson = (p) => (existsSync(p) ? JSON.parse(readFileSync(p, "utf8")) : null);

// /usr/bin/time -v output plus the machine's busy ticks during the run (written by cutout.sh).
function process_(name) {
  const timeFile = path.join(logs, `${name}.time`);
  if (!existsSync(timeFile)) return null;
  const t = readFileSync(timeFile, "utf8");
  const num = (re) => {
    const m = t.match(re);
    return m ? parseFloat(m[1]) : null;
  };
  const e = t.match(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/);
  const wall = e ? (parseInt(e[1] || "0", 10) * 3600 + parseInt(e[2], 10) * 60 + parseFloat(e[3])) : null;
  const user = num(/User time \(seconds\): ([\d.]+)/);
  const sys = num(/System time \(seconds\): ([\d.]+)/);
  const rssKb = num(/Maximum resident set size \(kbytes\): (\d+)/);
  let others = null;
  let exit = null;
  const busyFile = path.join(logs, `${name}.busy`);
  if (existsSync(busyFile)) {
    const [ticks, hz, rc] = readFileSync(busyFile, "utf8").trim().split(/\s+/).map(Number);
    exit = rc;
    // CPU time the machine spent on anything but this process, as cores busy on average.
    if (wall) others = Math.max(0, (ticks / hz - user - sys) / wall);
  }
  return {
    wall_s: wall,
    cpu_s: user + sys,
    cpu_util: wall ? (user + sys) / wall : null,
    peak_rss_mb: rssKb / 1024,
    others_cpu_cores: others,
    exit_code: exit,
  };
}

function scores(tool) {
  const result = {};
  for (const [file, label] of Object.entries(kSets)) {
    const s = readJson(path.join(out, "scores", `${tool}-${file}.json`));
    if (!s) continue;
    result[label] = {
      ...s.mean,
      missing: s.missing.length,
      groups: s.groups,
      worst_iou: [...s.images].sort((a, b) => a.iou - b.iou).slice(0, 3)
        .map((x) => ({ image: x.image, iou: x.iou })),
    };
  }
  return result;
}

function peer() {
  const p = process_("peer");
  if (!p) return null;
  const j = readJson(path.join(logs, "peer.json"));
  const steady = j ? j.total_ms / 1000 : null;
  const images = j ? j.images : null;
  return {
    ran: true,
    process: p,
    images,
    steady_s: steady,
    images_per_s: steady ? images / steady : null,
    images_per_s_end_to_end: images && p.wall_s ? images / p.wall_s : null,
    cpu_s_per_image: images ? p.cpu_s / images : null,
    load_s: j ? j.load_ms / 1000 : null,
    warmup_s: j ? j.warmup_ms / 1000 : null,
    median_image_ms: j ? j.median_ms : null,
    median_model_run_ms: j ? j.median_ort_ms : null,  // one ORT run on the 1024x1024 input
    median_inference_ms: j ? j.median_infer_ms : null,  // incl. the library's JS resizes
    scores: scores("peer"),
  };
}

function vitrine() {
  const p = process_("vitrine");
  if (!p) return { ran: false, reason: vitrineSkip || "not run" };
  const text = readFileSync(path.join(logs, "vitrine.out"), "utf8");
  const m = text.match(/(\d+) of (\d+) images in ([\d.]+) s/);
  const images = m ? parseInt(m[1], 10) : null;
  // The batch time excludes the model load (done before the batch) but includes the first
  // inference's set-up; without the summary line, fall back to the process's wall time.
  const steady = m ? parseFloat(m[3]) : p.wall_s;
  return {
    ran: true,
    process: p,
    images,
    images_failed: m ? parseInt(m[2], 10) - images : null,
    steady_s: steady,
    images_per_s: images && steady ? images / steady : null,
    images_per_s_end_to_end: images && p.wall_s ? images / p.wall_s : null,
    cpu_s_per_image: images ? p.cpu_s / images : null,
    scores: scores("vitrine"),
  };
}

const report = {
  generated: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? "",
    memory_gb: os.totalmem() / 2 ** 30,
  },
  limit_per_set: limit || null,
  peer: peer(),
  vitrine: vitrine(),
  memory_24mp: {
    target_mb: kMemoryTargetMb,
    vitrine: process_("vitrine-24mp"),
    peer: process_("peer-24mp"),
  },
};
const v = report.vitrine;
const p = report.peer;
report.ratio_vitrine_over_peer = {
  images_per_s: v.ran && p ? v.images_per_s / p.images_per_s : null,
  images_per_s_end_to_end: v.ran && p ? v.images_per_s_end_to_end / p.images_per_s_end_to_end : null,
  cpu_s_per_image: v.ran && p ? v.cpu_s_per_image / p.cpu_s_per_image : null,
  peak_rss: v.ran && p ? v.process.peak_rss_mb / p.process.peak_rss_mb : null,
};
const mv = report.memory_24mp.vitrine;
report.memory_24mp.vitrine_within_target = mv ? mv.peak_rss_mb <= kMemoryTargetMb && mv.exit_code === 0 : null;
writeFileSync(path.join(out, "cutout_report.json"), JSON.stringify(report, null, 2) + "\n");

// ----- the table
const f = (x, digits = 2) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(digits));
const rows = [];
const row = (label, vv, pv, ratio = "") => rows.push([label, vv, pv, ratio]);
const get = (o, ...keys) => keys.reduce((a, k) => (a == null ? a : a[k]), o);
row("images", f(v.images, 0), f(p?.images, 0));
row("images/s (model loaded)", f(v.images_per_s, 3), f(p?.images_per_s, 3),
  f(report.ratio_vitrine_over_peer.images_per_s));
row("images/s (whole process)", f(v.images_per_s_end_to_end, 3), f(p?.images_per_s_end_to_end, 3),
  f(report.ratio_vitrine_over_peer.images_per_s_end_to_end));
row("CPU s per image", f(v.cpu_s_per_image), f(p?.cpu_s_per_image),
  f(report.ratio_vitrine_over_peer.cpu_s_per_image));
row("model load s", "-", p ? `${f(p.load_s)} + ${f(p.warmup_s)} warm-up` : "-");
row("model run 1024² median ms", "-", f(p?.median_model_run_ms, 0));
row("peak RSS MB", f(get(v, "process", "peak_rss_mb"), 0), f(get(p, "process", "peak_rss_mb"), 0),
  f(report.ratio_vitrine_over_peer.peak_rss));
for (const set of Object.values(kSets)) {
  const sv = get(v, "scores", set);
  const sp = get(p, "scores", set);
  const n = sv?.images ?? sp?.images;
  row(`${set} (${n ?? "-"}) IoU`, f(sv?.iou, 4), f(sp?.iou, 4));
  row(`${set} median IoU`, f(sv?.median_iou, 4), f(sp?.median_iou, 4));
  row(`${set} MAE`, f(sv?.mae, 4), f(sp?.mae, 4));
  row(`${set} edge MAE (8 px)`, f(sv?.edge_mae, 4), f(sp?.edge_mae, 4));
  if (sv?.missing || sp?.missing) row(`${set} missing outputs`, f(sv?.missing, 0), f(sp?.missing, 0));
  // Composites by kind of background (IoU / edge MAE).
  const groups = Object.keys({ ...(sv?.groups || {}), ...(sp?.groups || {}) }).sort();
  const ge = (s, g) => (s?.groups?.[g] ? `${f(s.groups[g].iou, 3)} / ${f(s.groups[g].edge_mae, 3)}` : "-");
  for (const g of groups) {
    const n = sv?.groups?.[g]?.images ?? sp?.groups?.[g]?.images;
    row(`  on ${g} (${n}) IoU / edge MAE`, ge(sv, g), ge(sp, g));
  }
}
const mp = report.memory_24mp.peer;
row("24 MP: peak RSS MB", f(mv?.peak_rss_mb, 0), f(mp?.peak_rss_mb, 0),
  mv ? (report.memory_24mp.vitrine_within_target ? `ok (<= ${kMemoryTargetMb})` : `OVER ${kMemoryTargetMb}`) : "");
row("24 MP: wall s (incl. load)", f(mv?.wall_s, 1), f(mp?.wall_s, 1));
row("others' CPU during run (cores)", f(get(v, "process", "others_cpu_cores")),
  f(get(p, "process", "others_cpu_cores")));

const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c].length), [ "", "vitrine", "peer", "vitrine/peer"][c].length));
const line = (r) => r.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join("  ");
console.log("");
console.log(line(["", "vitrine", "peer", "vitrine/peer"]));
for (const r of rows) console.log(line(r));
if (!v.ran) console.log(`\nvitrine not measured: ${v.reason}`);
const busy = [get(v, "process", "others_cpu_cores"), get(p, "process", "others_cpu_cores")].filter((x) => x > 0.1);
if (busy.length) {
  console.log("\nWARNING: other processes used the CPU during a timed run; speed figures are unreliable.");
}
if (limit) console.log(`\n--limit ${limit}: only the first ${limit} images of each set; figures are indicative.`);
console.log(`\nreport: ${path.join(out, "cutout_report.json")}`);
