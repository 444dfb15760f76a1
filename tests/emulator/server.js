'use strict';
// Starts the telegram-test-api Bot API emulator for the Python tests (tests/emulator/launcher.py).
//
// Usage: node server.js PORT   (or EMULATOR_PORT=PORT node server.js)
// Binds to 127.0.0.1 only. Prints one line "EMULATOR_READY <apiURL>" on stdout once listening,
// "EMULATOR_ERROR <code> <message>" on failure (exit code 3 when the port is taken).
// Stops when stdin closes (so it dies with its parent) or on SIGTERM/SIGINT.
const TelegramServer = require('telegram-test-api');

const port = Number(process.argv[2] || process.env.EMULATOR_PORT);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  // telegram-test-api 4.2.1 turns port 0 into 9000, so the caller must choose a port.
  process.stdout.write(`EMULATOR_ERROR EINVAL port must be 1..65535, got ${process.argv[2]}\n`);
  process.exit(2);
}
// Keep messages for a day: the emulator deletes stored messages (history too) after storeTimeout.
const storeTimeout = Number(process.env.EMULATOR_STORE_TIMEOUT || 86400);

const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout });
let stopping = false;

async function stop(code) {
  if (stopping) return;
  stopping = true;
  try {
    await Promise.race([server.stop(), new Promise((resolve) => { setTimeout(resolve, 2000); })]);
  } finally {
    process.exit(code);
  }
}

// 4.2.1's client routes do not await their handlers: an invalid payload (no botToken, a command
// without entities) rejects after the route answered ok, and Node would exit. Log and go on.
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`EMULATOR_UNHANDLED ${reason && reason.stack ? reason.stack : reason}\n`);
});
process.on('SIGTERM', () => { stop(0); });
process.on('SIGINT', () => { stop(0); });
process.stdin.on('end', () => { stop(0); });
process.stdin.on('error', () => { stop(0); });
process.stdin.resume();

server.start().then(() => {
  process.stdout.write(`EMULATOR_READY ${server.config.apiURL}\n`);
}, (error) => {
  const code = error && error.code ? error.code : 'ESTART';
  process.stdout.write(`EMULATOR_ERROR ${code} ${error && error.message}\n`);
  process.exit(code === 'EADDRINUSE' ? 3 : 1);
});
