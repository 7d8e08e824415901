// Compiles fixtures/contracts/*.sol with the solc npm package into
// fixtures/contracts/<Name>.json ({abi, bytecode}). Deterministic: the same source and
// compiler give the same bytes, which tests/test_contracts.py checks.
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const dir = path.join(__dirname, "..", "fixtures", "contracts");
const check = process.argv.includes("--check");
let stale = 0;
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".sol"))) {
  const input = {
    language: "Solidity",
    sources: { [file]: { content: fs.readFileSync(path.join(dir, file), "utf8") } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
      metadata: { bytecodeHash: "none" },
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  if (errors.length) {
    console.error(errors.map((e) => e.formattedMessage).join("\n"));
    process.exit(1);
  }
  for (const [name, contract] of Object.entries(output.contracts[file])) {
    const artifact = JSON.stringify({ abi: contract.abi, bytecode: "0x" + contract.evm.bytecode.object }, null, 2) + "\n";
    const target = path.join(dir, `${name}.json`);
    if (check) {
      if (!fs.existsSync(target) || fs.readFileSync(target, "utf8") !== artifact) {
        console.error(`${target} is not the compiled ${file}`);
        stale += 1;
      }
    } else {
      fs.writeFileSync(target, artifact);
      console.log(`wrote ${target}`);
    }
  }
}
process.exit(stale ? 1 : 0);
