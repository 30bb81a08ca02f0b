// Compiles every tool's input and output schema of the aifinops MCP server with Ajv in strict mode, as the MCP
// Inspector's web client does (its "strict mode" warnings), and prints each warning. Needs node and the
// Inspector's packages (for Ajv):
//   npm install --prefix /tmp/insp @modelcontextprotocol/inspector
//   node /tmp/insp/node_modules/@modelcontextprotocol/inspector/clients/cli/build/index.js \
//        aifinops mcp --store STORE --method tools/list > tools.json
//   NODE_PATH=/tmp/insp/node_modules node bench/mcp_inspector_strict.mjs tools.json
import fs from "fs";
import { createRequire } from "module";

const require = createRequire(process.env.NODE_PATH ? `${process.env.NODE_PATH}/` : import.meta.url);
const Ajv2020 = require("ajv/dist/2020.js").default;
const tools = JSON.parse(fs.readFileSync(process.argv[2])).tools;
const warnings = [];
for (const tool of tools) {
  for (const kind of ["inputSchema", "outputSchema"]) {
    if (!tool[kind]) continue;
    const say = (level) => (message) => warnings.push(`${tool.name} ${kind} ${level}: ${message}`);
    const ajv = new Ajv2020({ strict: "log", logger: { log() {}, warn: say("warning"), error: say("error") } });
    try {
      ajv.compile(tool[kind]);
    } catch (e) {
      warnings.push(`${tool.name} ${kind} refused: ${e.message}`);
    }
  }
}
console.log(`${tools.length} tools, ${warnings.length} strict-mode warnings`);
for (const w of warnings) console.log(w);
process.exit(warnings.length ? 1 : 0);
