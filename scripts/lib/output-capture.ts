import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** One structured log line a handler wrote (Powertools JSON: level, message, extra keys). */
export interface LogRecord {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

/** The process's output, split into ours (printed) and the handlers' (captured). */
export interface OutputCapture {
  /** Writes a line to the real standard output. */
  print(line?: string): void;
  /** Writes a line to the real standard error. */
  printError(line: string): void;
  /** Lines the handlers (and libraries) wrote since the last call. */
  takeLines(): string[];
  /** The structured log records among {@link OutputCapture.takeLines}' lines. */
  takeRecords(): LogRecord[];
  /** The file every captured line is appended to. */
  readonly logFile: string;
  /** Drops everything printed from now on (after an interrupt, the run's last gasps only confuse). */
  mute(): void;
  /** Puts the real streams back. */
  restore(): void;
}

type Write = typeof process.stdout.write;

/** Parses the Powertools JSON log records among output lines (EMF metric lines are skipped). */
export function parseLogRecords(lines: readonly string[]): LogRecord[] {
  const records: LogRecord[] = [];
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as Record<string, unknown>;
      if (typeof value.level === 'string' && typeof value.message === 'string')
        records.push(value as LogRecord);
    } catch {
      continue;
    }
  }
  return records;
}

/**
 * Redirects everything written to stdout/stderr (the handlers' Powertools logs and metrics,
 * SDK warnings) into a log file and an in-memory buffer, so the run's own progress stays
 * readable; `echo` also copies it to stderr. Our own output goes through `print`.
 */
export function captureOutput(opts: { logFile: string; echo?: boolean }): OutputCapture {
  mkdirSync(path.dirname(opts.logFile), { recursive: true });
  writeFileSync(opts.logFile, '');
  const realOut: Write = process.stdout.write.bind(process.stdout);
  const realErr: Write = process.stderr.write.bind(process.stderr);
  let pending = '';
  let lines: string[] = [];
  let muted = false;

  const sink = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    appendFileSync(opts.logFile, text);
    if (opts.echo && !muted) realErr(text);
    const parts = (pending + text).split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts);
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as Write;
  process.stdout.write = sink;
  process.stderr.write = sink;

  const takeLines = () => {
    const taken = lines;
    lines = [];
    return taken;
  };
  return {
    print: (line = '') => {
      if (!muted) realOut(`${line}\n`);
    },
    printError: (line) => {
      if (!muted) realErr(`${line}\n`);
    },
    mute: () => {
      muted = true;
    },
    takeLines,
    takeRecords: () => parseLogRecords(takeLines()),
    logFile: opts.logFile,
    restore: () => {
      process.stdout.write = realOut;
      process.stderr.write = realErr;
    },
  };
}
