// Starts the already-built `bala` binary in demo mode on a fresh temporary data
// directory and a free port, and stops it again.
//
//   const server = await startServer();   // { url, dataDir, output(), stop() }
//   ...
//   await server.stop();
//
// The binary is BALA_BIN (default: ../target/debug/bala relative to e2e/).
// The port is chosen by the operating system: the server listens on
// 127.0.0.1:0 and we read the real address from its "Bala is running at" line,
// so two test files never race for the same port.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const E2E_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function balaBin() {
  return resolve(E2E_DIR, process.env.BALA_BIN || '../target/debug/bala');
}

/**
 * @param {{ timeoutMs?: number }} [opts]
 * @returns {Promise<{ url: string, dataDir: string, output: () => string, stop: () => Promise<void> }>}
 */
export async function startServer({ timeoutMs = 60_000 } = {}) {
  const bin = balaBin();
  if (!existsSync(bin)) {
    throw new Error(`bala binary not found at ${bin}: build it with 'cargo build -p bala-cli' or set BALA_BIN`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'bala-e2e-'));
  const env = { ...process.env };
  // Settings from the environment would override the command line defaults.
  for (const k of ['BALA_DATABASE_URL', 'BALA_LISTEN', 'BALA_SECURE_COOKIES', 'BALA_TRUST_PROXY', 'BALA_SECRET_KEY', 'BALA_DATA_DIR']) {
    delete env[k];
  }
  const child = spawn(bin, ['--data-dir', dataDir, 'demo', '--listen', '127.0.0.1:0'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let out = '';
  const output = () => out;
  let ready = false;
  let exited = null;
  let onEarlyExit = () => {};
  const exitPromise = new Promise((res) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      res(exited);
      if (!ready) onEarlyExit(code, signal);
    });
  });
  // Keep reading both pipes for the server's whole life so it never blocks on a full pipe.
  child.stderr.on('data', (chunk) => {
    out += chunk.toString();
  });

  const url = await new Promise((res, rej) => {
    const fail = (why) => {
      clearTimeout(timer);
      if (!exited) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
      rej(new Error(`${why}\n--- command: ${bin} --data-dir ${dataDir} demo --listen 127.0.0.1:0\n--- server output:\n${out || '(none)'}`));
    };
    const timer = setTimeout(
      () => fail(`bala did not print "Bala is running at" within ${timeoutMs / 1000} s`),
      timeoutMs,
    );
    child.stdout.on('data', (chunk) => {
      out += chunk.toString();
      const m = !ready && out.match(/Bala is running at (http:\/\/[^\s/]+)/);
      if (m) {
        ready = true;
        clearTimeout(timer);
        res(m[1]);
      }
    });
    child.on('error', (e) => fail(`could not start bala: ${e.message}`));
    onEarlyExit = (code, signal) => fail(`bala exited (code ${code}, signal ${signal}) before it was ready`);
  });

  async function stop() {
    if (!exited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(killer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }

  return { url, dataDir, output, stop };
}
