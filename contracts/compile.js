// Compiles contracts/src and contracts/test with npm `solc` (installed by scripts/install-test-peers.sh)
// and prints {"Contract": {"bytecode": "0x…", "deployedBytecode": "0x…", "abi": […]}} on stdout.
// Usage: node contracts/compile.js <path to node_modules/solc>
const fs = require("fs");
const path = require("path");
const solc = require(process.argv[2]);
const dir = __dirname;
const sources = {};
for (const sub of ["src", "test"]) {
  for (const f of fs.readdirSync(path.join(dir, sub)).filter((f) => f.endsWith(".sol")).sort()) {
    sources[`${sub}/${f}`] = { content: fs.readFileSync(path.join(dir, sub, f), "utf8") };
  }
}
const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    metadata: { bytecodeHash: "none", appendCBOR: false },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  console.error(errors.map((e) => e.formattedMessage).join("\n"));
  process.exit(1);
}
const result = {};
for (const file of Object.keys(out.contracts)) {
  for (const [name, c] of Object.entries(out.contracts[file])) {
    result[name] = { bytecode: "0x" + c.evm.bytecode.object, deployedBytecode: "0x" + c.evm.deployedBytecode.object, abi: c.abi };
  }
}
process.stdout.write(JSON.stringify(result));
