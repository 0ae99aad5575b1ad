// Copy the pinned front-end packages into the Django static tree (offline intranets: no CDN).
import { cpSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const nm = join(root, "node_modules");
const out = join(root, "src", "xinrong", "web", "static", "vendor");

const files = [
  ["bootstrap/dist/css/bootstrap.min.css", "bootstrap/bootstrap.min.css"],
  ["bootstrap/dist/css/bootstrap.min.css.map", "bootstrap/bootstrap.min.css.map"],
  ["bootstrap/dist/js/bootstrap.bundle.min.js", "bootstrap/bootstrap.bundle.min.js"],
  ["bootstrap/dist/js/bootstrap.bundle.min.js.map", "bootstrap/bootstrap.bundle.min.js.map"],
  ["bootstrap-icons/font/bootstrap-icons.min.css", "bootstrap-icons/bootstrap-icons.min.css"],
  ["bootstrap-icons/font/fonts", "bootstrap-icons/fonts"],
  ["htmx.org/dist/htmx.min.js", "htmx/htmx.min.js"],
  ["echarts/dist/echarts.min.js", "echarts/echarts.min.js"],
  // the BPMN modeler of the approval-process editor (workflows app)
  ["bpmn-js/dist/bpmn-modeler.production.min.js", "bpmn-js/bpmn-modeler.production.min.js"],
  ["bpmn-js/dist/assets/diagram-js.css", "bpmn-js/diagram-js.css"],
  ["bpmn-js/dist/assets/bpmn-js.css", "bpmn-js/bpmn-js.css"],
  ["bpmn-js/dist/assets/bpmn-font/css/bpmn.css", "bpmn-js/bpmn-font/css/bpmn.css"],
  ["bpmn-js/dist/assets/bpmn-font/font", "bpmn-js/bpmn-font/font"],
];

rmSync(out, { recursive: true, force: true });
for (const [src, dst] of files) {
  const from = join(nm, src);
  if (!existsSync(from)) {
    console.error(`missing ${from}: run "npm ci" first`);
    process.exit(1);
  }
  const to = join(out, dst);
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true });
}
console.log(`static vendor files written to ${out}`);
