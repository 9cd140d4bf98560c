// Bundles frontend/app.js and frontend/app.css into web/static/dist/ (run via `npm run build`).
//
// The output is deterministic: the dist folder is emptied first, esbuild's output depends only on
// the sources, and font files get content hashes, so the same lockfile always yields the same bytes.
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outdir = join(root, "web", "static", "dist");
const watch = process.argv.includes("--watch");

const options = {
  absWorkingDir: root,
  entryPoints: ["frontend/app.js", "frontend/app.css"],
  outdir,
  bundle: true,
  minify: !watch,
  sourcemap: watch ? "linked" : false,
  // Browsers on civil servants' phones and office PCs: ES2020 covers what Bootstrap 5.3 supports.
  target: ["es2020"],
  // Icon fonts become files next to app.css; app.css refers to them with relative URLs, so they
  // load from /static/dist/fonts/... wherever the app is mounted.
  loader: { ".woff": "file", ".woff2": "file" },
  assetNames: "fonts/[name]-[hash]",
  legalComments: "eof",
  logLevel: "info",
};

rmSync(outdir, { recursive: true, force: true });
if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  await esbuild.build(options);
}
