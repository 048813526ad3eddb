// The peer for the cutout benchmark: @imgly/background-removal-node (ISNet "medium", fp16) on
// ONNX Runtime. Loads the model once, then for each input writes OUTDIR/<stem>.png, an 8-bit
// single-channel alpha matte of the input's size, and reports the wall time of each image
// (decode + inference + encode + write) with the one-time model load reported apart.
//
//   node peer_cutout.mjs --output-dir DIR [--json FILE] [--repeat N] [--model medium]
//                        [--session-options JSON] FILE_OR_DIR...
//
// --json FILE writes the timings as JSON; --repeat N runs the whole list N times (timing one
// image size steadily); --session-options merges ONNX Runtime session options over the library's
// own ({graphOptimizationLevel: "all", executionMode: "parallel"}), e.g.
// '{"executionMode":"sequential","intraOpNumThreads":2}' (the benchmark uses the library as is). Per image, the library's progress events and a wrapper around
// ort.InferenceSession.run split the time into: before inference (file read + sharp decode),
// inference as the library does it (its JS bilinear resize to 1024x1024, normalisation, the ORT
// run, the JS bilinear resize of the matte back to full size) and the ORT run alone.
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";

import { removeBackground } from "@imgly/background-removal-node";
import * as ort from "onnxruntime-node";
import sharp from "sharp";

const here = path.dirname(fileURLToPath(import.meta.url));
const kImageExt = new Set([".jpg", ".jpeg", ".png", ".webp"]);

function usage(message) {
  if (message) console.error(`peer_cutout: ${message}`);
  console.error(
    "usage: node peer_cutout.mjs --output-dir DIR [--json FILE] [--repeat N] [--model small|medium|large] FILE_OR_DIR...");
  process.exit(2);
}

function parseArgs(argv) {
  const args = {
    outputDir: null, json: null, repeat: 1, model: "medium", sessionOptions: null, inputs: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === "--output-dir" || a === "-o") args.outputDir = value();
    else if (a === "--json") args.json = value();
    else if (a === "--repeat") args.repeat = Math.max(1, parseInt(value(), 10));
    else if (a === "--model") args.model = value();
    else if (a === "--session-options") args.sessionOptions = JSON.parse(value());
    else if (a.startsWith("-")) usage(`unknown option ${a}`);
    else args.inputs.push(a);
  }
  if (!args.outputDir) usage("--output-dir is required");
  if (args.inputs.length === 0) usage("no input files");
  return args;
}

function expandInputs(inputs) {
  const files = [];
  for (const input of inputs) {
    const st = statSync(input);
    if (st.isDirectory()) {
      for (const name of readdirSync(input).sort()) {
        if (!name.startsWith(".") && kImageExt.has(path.extname(name).toLowerCase())) {
          files.push(path.join(input, name));
        }
      }
    } else {
      files.push(input);
    }
  }
  return files;
}

// Time spent inside ORT's session.run, accumulated (the library gives no hook of its own).
let ortMs = 0;
const run = ort.InferenceSession.prototype.run;
ort.InferenceSession.prototype.run = async function (...a) {
  const t = performance.now();
  try {
    return await run.apply(this, a);
  } finally {
    ortMs += performance.now() - t;
  }
};

// Session options the library creates its session with, and our overrides (--session-options).
let sessionOptions = null;
let sessionOverrides = {};
const create = ort.InferenceSession.create;
ort.InferenceSession.create = function (model, options, ...rest) {
  sessionOptions = { ...(options || {}), ...sessionOverrides };
  return create.call(this, model, sessionOptions, ...rest);
};

// The library reports "compute:inference" 0 when inference starts and 1 when the matte is back
// at full size; memoised with the model, so the callback given at load serves every later call.
let inferStart = 0;
let inferEnd = 0;
const config = {
  publicPath: pathToFileURL(path.join(here, "node_modules/@imgly/background-removal-node/dist")).href + "/",
  model: "medium",
  output: { format: "image/x-rgba8" },
  progress: (key, current) => {
    if (key === "compute:inference") {
      if (current === 0) inferStart = performance.now();
      else inferEnd = performance.now();
    }
  },
};

// Runs the library on one image; returns the alpha plane and the phase times.
async function cutout(source) {
  ortMs = 0;
  const t0 = performance.now();
  const blob = await removeBackground(source, config);
  const t1 = performance.now();
  const params = Object.fromEntries(
    blob.type.split(";").slice(1).map((p) => p.split("=").map((s) => s.trim())));
  const width = parseInt(params.width, 10);
  const height = parseInt(params.height, 10);
  const rgba = new Uint8Array(await blob.arrayBuffer());
  const alpha = Buffer.allocUnsafe(width * height);
  for (let i = 0, j = 3; i < alpha.length; i++, j += 4) alpha[i] = rgba[j];
  return {
    alpha, width, height,
    before_ms: inferStart - t0,
    infer_ms: inferEnd - inferStart,
    ort_ms: ortMs,
    library_ms: t1 - t0,
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  config.model = args.model;
  if (args.sessionOptions) sessionOverrides = args.sessionOptions;
  const files = expandInputs(args.inputs);
  mkdirSync(args.outputDir, { recursive: true });

  // Load the model once, through the library's own (memoised) loader, on a tiny image: the
  // time up to the start of inference is the load; the rest is the first (warm-up) inference.
  const tiny = await sharp({
    create: { width: 32, height: 32, channels: 3, background: { r: 128, g: 128, b: 128 } },
  }).png().toBuffer();
  const tLoad = performance.now();
  const warm = await cutout(new Blob([tiny], { type: "image/png" }));
  const loadMs = warm.before_ms;
  const warmupMs = performance.now() - tLoad - loadMs;
  console.error(`peer: ORT session options ${JSON.stringify(sessionOptions)}`);
  console.error(`peer: model ${args.model} loaded in ${(loadMs / 1000).toFixed(2)} s, ` +
    `warm-up inference ${(warmupMs / 1000).toFixed(2)} s`);

  const results = [];
  let totalMs = 0;
  for (let r = 0; r < args.repeat; r++) {
    for (const file of files) {
      const t0 = performance.now();
      const c = await cutout(pathToFileURL(path.resolve(file)));
      const out = path.join(args.outputDir, path.parse(file).name + ".png");
      await sharp(c.alpha, { raw: { width: c.width, height: c.height, channels: 1 } })
        .toColourspace("b-w")
        .png()
        .toFile(out);
      const ms = performance.now() - t0;
      totalMs += ms;
      const row = {
        file, width: c.width, height: c.height, ms,
        before_ms: c.before_ms, infer_ms: c.infer_ms, ort_ms: c.ort_ms,
        after_ms: ms - c.before_ms - c.infer_ms,
      };
      results.push(row);
      console.error(`[${results.length}/${files.length * args.repeat}] ${path.basename(file)} ` +
        `${c.width}x${c.height}: ${ms.toFixed(0)} ms (decode ${row.before_ms.toFixed(0)}, ` +
        `inference ${row.infer_ms.toFixed(0)} of which ORT ${row.ort_ms.toFixed(0)}, ` +
        `matte+png ${row.after_ms.toFixed(0)})`);
    }
  }

  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : 0;
  };
  const summary = {
    tool: "peer",
    library: "@imgly/background-removal-node@1.4.5",
    onnxruntime_node: ort.env.versions?.node ?? null,
    sharp: sharp.versions.sharp,
    model: args.model,
    session_options: sessionOptions,
    cpus: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    load_ms: loadMs,
    warmup_ms: warmupMs,
    images: results.length,
    total_ms: totalMs,
    images_per_s: results.length / (totalMs / 1000),
    median_ms: median(results.map((x) => x.ms)),
    median_ort_ms: median(results.map((x) => x.ort_ms)),
    median_infer_ms: median(results.map((x) => x.infer_ms)),
    per_image: results,
  };
  if (args.json) writeFileSync(args.json, JSON.stringify(summary, null, 2));
  console.log(`peer: ${results.length} images in ${(totalMs / 1000).toFixed(1)} s ` +
    `(${summary.images_per_s.toFixed(3)} images/s; median ${summary.median_ms.toFixed(0)} ms, ` +
    `ORT run median ${summary.median_ort_ms.toFixed(0)} ms); model load ${(loadMs / 1000).toFixed(2)} s ` +
    `+ warm-up ${(warmupMs / 1000).toFixed(2)} s not counted; results in ${args.outputDir}`);
}

main().catch((e) => {
  console.error(`peer_cutout: ${e.stack || e}`);
  process.exit(1);
});
