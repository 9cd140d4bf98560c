// Bundles the front end into web/static/dist/ (run via `npm run build`):
//   app.js + app.css         Bootstrap and the small enhancements every page loads
//   modeler.js + modeler.css the BPMN editor (bpmn-js and its properties panel)
//   viewer.js + viewer.css   the read-only process map of a case
//   dmn.js + dmn.css         the rule table editor (dmn-js)
//   dashboard.js + .css      the charts of the dashboard (数据看板; ECharts, only the chart types it draws)
// Each pair is standalone (no shared chunks), so a page loads only the editor it shows.
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
  entryPoints: ["app", "modeler", "viewer", "dmn", "dashboard"].flatMap((name) => [
    `frontend/${name}.js`,
    `frontend/${name}.css`,
  ]),
  outdir,
  bundle: true,
  minify: !watch,
  sourcemap: watch ? "linked" : false,
  // Browsers on civil servants' phones and office PCs: ES2020 covers what Bootstrap 5.3 supports.
  target: ["es2020"],
  // Icon fonts become files next to the CSS, which refers to them with relative URLs, so they
  // load from /static/dist/fonts/... wherever the app is mounted. The bpmn/dmn fonts also ship
  // legacy formats (eot, ttf, svg) that their CSS names; browsers pick woff2.
  loader: { ".woff": "file", ".woff2": "file", ".eot": "file", ".ttf": "file", ".svg": "file" },
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
