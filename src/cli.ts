#!/usr/bin/env -S node --max-semi-space-size=32
import { ConfigError, loadConfig } from './config/load.js';
import { start, type Mode } from './app.js';

const USAGE = `usage: veracity <command> [options]

commands:
  serve            proxy and worker together, analysis in a child process (npm start)
  proxy            the proxy only (analysis jobs go to Redis for separate workers)
  worker           the analysis worker only, with its own /metrics on VERACITY_METRICS_PORT
  check            JSONL exchanges in, JSONL verdicts out: --input F --output F (stdin/stdout by default)
  eval             check, then score against each line's "expected": --input F [--json F] [--html F]
  report           per-model reliability report from Prometheus or the aggregates in Redis: [--since 24h] [--out F] [--json F] [--prometheus URL] [--redis URL]
                   report --compare MODEL_A MODEL_B: which fails less on the same prompts [--since 24h] [--json F] [--out F]

Configuration: config/default.yaml, or the file in VERACITY_CONFIG; environment variables override it
(PORT, HOST, REDIS_URL, VERACITY_OPENAI_UPSTREAM, VERACITY_ANTHROPIC_UPSTREAM, VERACITY_ADMIN_TOKEN,
VERACITY_METRICS_PORT). See README.md and docs/configuration.md.`;

async function runService(mode: Mode): Promise<number> {
  const { config } = loadConfig();
  // Handlers go in before anything starts, so a signal during start-up still stops the private
  // redis-server instead of leaving it behind.
  let signalled: NodeJS.Signals | undefined;
  let onStopRequested: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      console.error(`${signal} again: exiting now`);
      process.exit(130);
    }
    signalled = signal;
    onStopRequested?.();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const running = await start(mode, config);
  await new Promise<void>((resolve) => {
    onStopRequested = resolve;
    if (signalled) resolve();
  });
  try {
    await running.stop();
    return 0;
  } catch (err) {
    console.error(`shutdown failed: ${(err as Error).message}`);
    return 1;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
    case 'proxy':
    case 'worker':
      return runService(command);
    case 'check':
      return (await import('./eval/check.js')).checkMain(rest);
    case 'eval':
      return (await import('./eval/eval.js')).evalMain(rest);
    case 'report':
      return (await import('./report/report.js')).reportMain(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`veracity: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

const command = process.argv[2];
const isService = command === 'serve' || command === 'proxy' || command === 'worker';
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // A service has closed everything it opened; exit now rather than wait on a stray timer.
    if (isService) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof ConfigError || (err as { code?: string }).code?.startsWith('VERACITY_ERR')) {
      console.error(`veracity: ${(err as Error).message}`);
    } else {
      console.error('veracity: fatal:', err);
    }
    process.exitCode = 1;
  },
);
