// How ethers v6 classifies op-sequencer's refusals (as it does against geth): sends, from a
// JsonRpcProvider and a Wallet, a tx from an unfunded key, a tx with a used nonce, and a
// same-nonce replacement without the fee bump; prints one JSON line per case with ethers' error
// code. Usage: node ethers_errors.mjs <rpc url> <funded private key>
import { createRequire } from "node:module";
const require = createRequire(process.env.OPSEQ_NODE_MODULES + "/");
const { ethers } = require("ethers");

const [url, key] = process.argv.slice(2);
const provider = new ethers.JsonRpcProvider(url, undefined, { staticNetwork: true });
const funded = new ethers.Wallet(key, provider);
const poor = ethers.Wallet.createRandom().connect(provider);
const to = "0x000000000000000000000000000000000000dEaD";
const fees = { maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 1_000_000n, gasLimit: 21000n };

async function attempt(name, f) {
  try {
    await f();
    console.log(JSON.stringify({ name, code: "OK" }));
  } catch (e) {
    console.log(JSON.stringify({ name, code: e.code ?? "UNKNOWN", message: String(e.shortMessage ?? e.message).slice(0, 200) }));
  }
}

await attempt("insufficient funds", () => poor.sendTransaction({ to, value: 1n, ...fees }));
const nonce = await provider.getTransactionCount(funded.address, "pending");
await funded.sendTransaction({ to, value: 1n, nonce, ...fees });
await attempt("replacement underpriced", () => funded.sendTransaction({ to, value: 2n, nonce, ...fees }));
await provider.send("evm_mine", []);
await attempt("nonce too low", () => funded.sendTransaction({ to, value: 3n, nonce, ...fees }));
