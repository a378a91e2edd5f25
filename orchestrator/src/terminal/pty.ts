// The one place that spawns a pseudo-terminal (node-pty), behind a small
// interface so the terminal session logic can be tested without a container.
// Always an argv array: node-pty execs the file directly, no shell between.
import { spawn } from 'node-pty';

export interface Pty {
  readonly pid: number;
  onData(listener: (data: string) => void): void;
  onExit(listener: (exit: { exitCode: number; signal?: number }) => void): void;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  kill(signal?: string): void;
}

export interface PtyOptions {
  cols: number;
  rows: number;
  env: Record<string, string>;
}

export type PtySpawn = (file: string, argv: string[], options: PtyOptions) => Pty;

export const spawnPty: PtySpawn = (file, argv, options) => {
  const pty = spawn(file, argv, { name: 'xterm-256color', cols: options.cols, rows: options.rows, env: options.env, encoding: 'utf8' });
  return {
    pid: pty.pid,
    onData: (listener) => void pty.onData(listener),
    onExit: (listener) => void pty.onExit(listener),
    write: (data) => pty.write(data),
    resize: (cols, rows) => pty.resize(cols, rows),
    pause: () => pty.pause(),
    resume: () => pty.resume(),
    kill: (signal) => pty.kill(signal)
  };
};
